//! The `.safetensors` format: a JSON header naming tensors, then their little-endian data.
//!
//! The file is memory-mapped and parsed by the `safetensors` crate, which validates the header,
//! the offsets and each tensor's byte count against the file. The chosen tensor is then copied
//! (and widened, for f16 and bf16) into an owned buffer, since its offset carries no alignment
//! guarantee.

use std::path::Path;

use logme::Order;
use safetensors::{Dtype, SafeTensors};

use super::decode::{self, Endian, Scalar};
use super::{FeatureFile, LabelFile, Location, ReadError};

/// Opens features: the tensor named `key`, or the only one.
pub(super) fn open_features(path: &Path, key: Option<&str>) -> Result<FeatureFile, ReadError> {
    let whole = Location::new(path);
    let map = super::map_file(&whole)?;
    let tensors = parse(&whole, &map)?;
    let (file, dtype, shape, data) = pick(path, &tensors, key)?;
    let Some(scalar) = scalar_of(dtype).filter(|scalar| scalar.is_float()) else {
        return Err(ReadError::FeatureDtype {
            file,
            dtype: dtype_name(dtype),
        });
    };
    let (n_samples, n_features) = super::feature_dims(&file, &shape)?;
    let n_elements = super::element_count(&file, &shape, scalar, data.len() as u64)?;
    let values = decode::decode_features(
        &mut &data[..],
        scalar,
        Endian::Little,
        n_elements,
        n_elements,
    )
    .map_err(|err| super::decode_error(&file, err, scalar))?;
    Ok(FeatureFile::from_data(
        values,
        n_samples,
        n_features,
        Order::RowMajor,
        scalar,
    ))
}

/// Opens labels: the tensor named `key`, or the only one.
pub(super) fn open_labels(path: &Path, key: Option<&str>) -> Result<LabelFile, ReadError> {
    let whole = Location::new(path);
    let map = super::map_file(&whole)?;
    let tensors = parse(&whole, &map)?;
    let (file, dtype, shape, data) = pick(path, &tensors, key)?;
    let Some(scalar) = scalar_of(dtype) else {
        return Err(ReadError::LabelDtype {
            file,
            dtype: dtype_name(dtype),
        });
    };
    let (n_rows, n_cols, one_dimensional) = super::label_dims(&file, &shape)?;
    let n_elements = super::element_count(&file, &shape, scalar, data.len() as u64)?;
    let values = decode::decode_labels(
        &mut &data[..],
        scalar,
        Endian::Little,
        n_elements,
        n_elements,
    )
    .map_err(|err| super::decode_error(&file, err, scalar))?;
    Ok(LabelFile {
        values,
        n_rows,
        n_cols,
        one_dimensional,
    })
}

/// Parses and validates the whole file.
fn parse<'data>(file: &Location, bytes: &'data [u8]) -> Result<SafeTensors<'data>, ReadError> {
    SafeTensors::deserialize(bytes).map_err(|err| ReadError::Safetensors {
        file: file.clone(),
        detail: err.to_string(),
    })
}

/// The chosen tensor: its location, element type, shape and bytes.
type Picked<'data> = (Location, Dtype, Vec<usize>, &'data [u8]);

/// Chooses the tensor named `key`, or the only one.
fn pick<'data>(
    path: &Path,
    tensors: &SafeTensors<'data>,
    key: Option<&str>,
) -> Result<Picked<'data>, ReadError> {
    let mut names: Vec<String> = tensors.names().into_iter().map(str::to_owned).collect();
    names.sort();
    let name = match key {
        Some(key) if names.iter().any(|name| name == key) => key.to_owned(),
        Some(key) => {
            return Err(ReadError::UnknownKey {
                file: Location::new(path),
                key: key.to_owned(),
                available: names,
            });
        }
        None => match names.as_slice() {
            [only] => only.clone(),
            [] => {
                return Err(ReadError::NoArrays {
                    file: Location::new(path),
                });
            }
            _ => {
                return Err(ReadError::KeyRequired {
                    file: Location::new(path),
                    available: names,
                });
            }
        },
    };
    let file = Location::with_key(path, &name);
    let view = tensors
        .tensor(&name)
        .map_err(|err| ReadError::Safetensors {
            file: file.clone(),
            detail: err.to_string(),
        })?;
    Ok((file, view.dtype(), view.shape().to_vec(), view.data()))
}

/// The element type logme decodes for a safetensors dtype, if any.
fn scalar_of(dtype: Dtype) -> Option<Scalar> {
    Some(match dtype {
        Dtype::BOOL => Scalar::Bool,
        Dtype::I8 => Scalar::I8,
        Dtype::I16 => Scalar::I16,
        Dtype::I32 => Scalar::I32,
        Dtype::I64 => Scalar::I64,
        Dtype::U8 => Scalar::U8,
        Dtype::U16 => Scalar::U16,
        Dtype::U32 => Scalar::U32,
        Dtype::U64 => Scalar::U64,
        Dtype::F16 => Scalar::F16,
        Dtype::BF16 => Scalar::BF16,
        Dtype::F32 => Scalar::F32,
        Dtype::F64 => Scalar::F64,
        _ => return None,
    })
}

/// A dtype's name for error messages: NumPy's name when logme knows the type.
fn dtype_name(dtype: Dtype) -> String {
    scalar_of(dtype).map_or_else(|| dtype.to_string(), |scalar| scalar.name().to_owned())
}
