//! The `.npy` format: header parsing, memory-mapped and owned reads, and the writers.
//!
//! A `.npy` file is a magic string, a version, a header length, a Python dict literal
//! (`descr`, `fortran_order`, `shape`) and the raw elements. The dict is parsed by
//! `ndarray-npy`; everything around it (lengths, element types, data size) is checked here before
//! anything is allocated, so a header that promises 10¹² × 10¹² elements fails with a message
//! instead of an allocation.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::Path;

use ndarray::{ArrayView1, ArrayView2};
use ndarray_npy::WriteNpyExt;
use ndarray_npy::npy::header::Header;

use super::decode::{self, Endian, Scalar, fill};
use super::error::clip;
use super::{FeatureFile, LabelFile, Location, Precision, ReadError, Storage};
use logme::Order;

/// The magic bytes every `.npy` file starts with.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header text accepted. NumPy writes a few hundred bytes for plain arrays and itself
/// refuses headers over 10 000 bytes by default.
const MAX_HEADER_LEN: usize = 1 << 16;

/// Deepest bracket nesting accepted in the header text, which keeps the recursive dict parser
/// away from deep recursion on crafted input.
const MAX_NESTING: usize = 8;

/// What an `.npy` header says about the array that follows it.
#[derive(Debug)]
pub(super) struct NpyHeader {
    /// The element type, `None` when logme does not decode it.
    pub(super) scalar: Option<Scalar>,
    /// The dtype as written in the header, for messages about unsupported types.
    pub(super) descr: String,
    pub(super) endian: Endian,
    pub(super) shape: Vec<usize>,
    pub(super) fortran: bool,
    /// Bytes from the start of the file to the first element.
    pub(super) data_offset: usize,
}

/// Reads and checks an `.npy` header from `reader`, which holds `total_len` bytes in all.
///
/// On success the reader stands at the first data byte. Object dtypes (plain or inside a
/// structured dtype) are refused here; other types logme does not decode (complex, strings,
/// structured) are reported by [`NpyHeader::feature_scalar`] and [`NpyHeader::label_scalar`].
pub(super) fn read_header(
    reader: &mut dyn Read,
    total_len: u64,
    file: &Location,
) -> Result<NpyHeader, ReadError> {
    let header_error = |detail: String| ReadError::NpyHeader {
        file: file.clone(),
        detail: clip(detail),
    };
    let io_error = |io| ReadError::Io {
        file: file.clone(),
        io,
    };

    // Magic string and version.
    let mut prelude = [0u8; 12];
    let got = fill(reader, &mut prelude[..8]).map_err(io_error)?;
    if got < 8 || prelude[..6] != MAGIC[..] {
        return Err(ReadError::NotNpy { file: file.clone() });
    }
    let prelude_len = match (prelude[6], prelude[7]) {
        (1, 0) => 10,
        (2, 0) | (3, 0) => 12,
        (major, minor) => {
            return Err(header_error(format!(
                "format version {major}.{minor} is unknown"
            )));
        }
    };

    // Header length, bounded before anything is allocated for it.
    let got = fill(reader, &mut prelude[8..prelude_len]).map_err(io_error)?;
    if got < prelude_len - 8 {
        return Err(header_error("the file ends inside the header".to_owned()));
    }
    let header_len = if prelude_len == 10 {
        usize::from(u16::from_le_bytes([prelude[8], prelude[9]]))
    } else {
        let len = u32::from_le_bytes([prelude[8], prelude[9], prelude[10], prelude[11]]);
        usize::try_from(len).unwrap_or(usize::MAX)
    };
    if header_len > MAX_HEADER_LEN {
        return Err(header_error(format!(
            "it claims {header_len} bytes of header text, more than the {MAX_HEADER_LEN} accepted"
        )));
    }
    let data_offset = prelude_len + header_len;
    if data_offset as u64 > total_len {
        return Err(header_error("the file ends inside the header".to_owned()));
    }

    // Header text, parsed by ndarray-npy once its nesting is known to be shallow.
    let mut bytes = vec![0u8; data_offset];
    bytes[..prelude_len].copy_from_slice(&prelude[..prelude_len]);
    let got = fill(reader, &mut bytes[prelude_len..]).map_err(io_error)?;
    if got < header_len {
        return Err(header_error("the file ends inside the header".to_owned()));
    }
    if nesting_depth(&bytes[prelude_len..]) > MAX_NESTING {
        return Err(header_error(
            "the header's dict is nested too deeply".to_owned(),
        ));
    }
    let header =
        Header::from_reader(&mut bytes.as_slice()).map_err(|err| header_error(err.to_string()))?;

    // Element type: object dtypes are refused here, other unsupported ones by the caller.
    let descr = header.type_descriptor.to_string();
    let (scalar, endian) = match header.type_descriptor.as_string() {
        Some(type_str) => match parse_type_str(type_str) {
            TypeStr::Scalar(scalar, endian) => (Some(scalar), endian),
            TypeStr::Object => return Err(ReadError::ObjectDtype { file: file.clone() }),
            TypeStr::Other => (None, Endian::Little),
        },
        None if structured_has_object(&descr) => {
            return Err(ReadError::ObjectDtype { file: file.clone() });
        }
        None => (None, Endian::Little),
    };
    Ok(NpyHeader {
        scalar,
        descr,
        endian,
        shape: header.shape,
        fortran: header.layout.is_fortran(),
        data_offset,
    })
}

impl NpyHeader {
    /// The element type, if features may have it.
    pub(super) fn feature_scalar(&self, file: &Location) -> Result<Scalar, ReadError> {
        match self.scalar {
            Some(scalar) if scalar.is_float() => Ok(scalar),
            _ => Err(ReadError::FeatureDtype {
                file: file.clone(),
                dtype: self.dtype_name(),
            }),
        }
    }

    /// The element type, if labels may have it.
    pub(super) fn label_scalar(&self, file: &Location) -> Result<Scalar, ReadError> {
        self.scalar.ok_or_else(|| ReadError::LabelDtype {
            file: file.clone(),
            dtype: self.dtype_name(),
        })
    }

    /// NumPy's name for the element type, or the header's literal for unknown ones.
    fn dtype_name(&self) -> String {
        self.scalar.map_or_else(
            || clip(self.descr.clone()),
            |scalar| scalar.name().to_owned(),
        )
    }
}

/// A parsed NumPy type string such as `<f4`.
enum TypeStr {
    Scalar(Scalar, Endian),
    Object,
    Other,
}

/// Parses a NumPy type string: byte order (`<`, `>`, or `|` for single bytes), kind, size.
fn parse_type_str(descr: &str) -> TypeStr {
    let (order, rest) = match descr.split_at_checked(1) {
        Some(("<", rest)) => (Some(Endian::Little), rest),
        Some((">", rest)) => (Some(Endian::Big), rest),
        Some(("|", rest)) => (None, rest),
        _ => (None, descr),
    };
    if rest.starts_with('O') {
        return TypeStr::Object;
    }
    let scalar = match rest {
        "b1" => Scalar::Bool,
        "i1" => Scalar::I8,
        "i2" => Scalar::I16,
        "i4" => Scalar::I32,
        "i8" => Scalar::I64,
        "u1" => Scalar::U8,
        "u2" => Scalar::U16,
        "u4" => Scalar::U32,
        "u8" => Scalar::U64,
        "f2" => Scalar::F16,
        "f4" => Scalar::F32,
        "f8" => Scalar::F64,
        _ => return TypeStr::Other,
    };
    match (scalar.size(), order) {
        (1, _) => TypeStr::Scalar(scalar, Endian::Little),
        (_, Some(endian)) => TypeStr::Scalar(scalar, endian),
        // A multi-byte type without a byte order cannot be decoded reliably.
        (_, None) => TypeStr::Other,
    }
}

/// Whether a structured dtype's literal has an object field (`'O'`, `'|O'`, `'<O8'`, ...).
fn structured_has_object(literal: &str) -> bool {
    ["'O", "'|O", "'<O", "'>O", "'=O"].iter().any(|pattern| {
        literal.match_indices(pattern).any(|(idx, _)| {
            // The type string must end right after the optional size digits.
            let after = &literal[idx + pattern.len()..];
            after
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with('\'')
        })
    })
}

/// Deepest bracket nesting in the header text (quotes are not special: a conservative bound).
fn nesting_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for byte in text {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Opens `.npy` features, memory-mapped when the data can be viewed in place.
pub(super) fn open_features(path: &Path) -> Result<FeatureFile, ReadError> {
    let file = Location::new(path);
    let map = super::map_file(&file)?;
    let header = read_header(&mut &map[..], map.len() as u64, &file)?;
    let scalar = header.feature_scalar(&file)?;
    let (n_samples, n_features) = super::feature_dims(&file, &header.shape)?;
    let data = map.get(header.data_offset..).unwrap_or_default();
    let n_elements = super::element_count(&file, &header.shape, scalar, data.len() as u64)?;
    let order = if header.fortran {
        Order::ColMajor
    } else {
        Order::RowMajor
    };

    // Little-endian f32/f64 at an aligned offset: view the mapped bytes in place.
    let precision = match (scalar, header.endian) {
        (Scalar::F32, Endian::Little) if bytemuck::try_cast_slice::<u8, f32>(data).is_ok() => {
            Some(Precision::F32)
        }
        (Scalar::F64, Endian::Little) if bytemuck::try_cast_slice::<u8, f64>(data).is_ok() => {
            Some(Precision::F64)
        }
        _ => None,
    };
    if let Some(precision) = precision {
        let storage = Storage::Mapped {
            offset: header.data_offset,
            len: data.len(),
            precision,
            map,
        };
        return Ok(FeatureFile::new(
            storage, n_samples, n_features, order, scalar,
        ));
    }

    // Anything else (float16, big-endian, misaligned) is converted into an owned buffer.
    let values = decode::decode_features(
        &mut &data[..],
        scalar,
        header.endian,
        n_elements,
        n_elements,
    )
    .map_err(|err| super::decode_error(&file, err, scalar))?;
    Ok(FeatureFile::from_data(
        values, n_samples, n_features, order, scalar,
    ))
}

/// Opens `.npy` labels: 1-D `[N]` or 2-D `[N, T]`, returned in row-major order.
pub(super) fn open_labels(path: &Path) -> Result<LabelFile, ReadError> {
    let file = Location::new(path);
    let map = super::map_file(&file)?;
    let header = read_header(&mut &map[..], map.len() as u64, &file)?;
    let data = map.get(header.data_offset..).unwrap_or_default();
    labels_from_reader(
        &file,
        &header,
        &mut &data[..],
        data.len() as u64,
        usize::MAX,
    )
}

/// Checks `header` for labels, then decodes `data_len` bytes of them from `reader`.
///
/// `max_initial` caps the first allocation (in elements) when the bytes are not yet in memory.
pub(super) fn labels_from_reader(
    file: &Location,
    header: &NpyHeader,
    reader: &mut dyn Read,
    data_len: u64,
    max_initial: usize,
) -> Result<LabelFile, ReadError> {
    let scalar = header.label_scalar(file)?;
    let (n_rows, n_cols, one_dimensional) = super::label_dims(file, &header.shape)?;
    let n_elements = super::element_count(file, &header.shape, scalar, data_len)?;
    let values = decode::decode_labels(
        reader,
        scalar,
        header.endian,
        n_elements,
        n_elements.min(max_initial),
    )
    .map_err(|err| super::decode_error(file, err, scalar))?;
    let values = if header.fortran {
        values.col_to_row_major(n_rows, n_cols)
    } else {
        values
    };
    Ok(LabelFile {
        values,
        n_rows,
        n_cols,
        one_dimensional,
    })
}

/// Writes a 1-D int64 `.npy` file (little-endian, as `numpy.save` writes it).
///
/// # Errors
/// [`ReadError::Write`] when the file cannot be created or written.
pub fn write_npy_i64(path: &Path, data: &[i64]) -> Result<(), ReadError> {
    let file = Location::new(path);
    let out = create(&file)?;
    ArrayView1::from(data)
        .write_npy(out)
        .map_err(|err| write_error(&file, &err))
}

/// Writes a 2-D float64 `.npy` file in C order: `data` is row-major `[n_rows, n_cols]`.
///
/// # Errors
/// [`ReadError::WriteShape`] when `data.len() != n_rows * n_cols`; [`ReadError::Write`] when the
/// file cannot be created or written.
pub fn write_npy_f64(
    path: &Path,
    data: &[f64],
    n_rows: usize,
    n_cols: usize,
) -> Result<(), ReadError> {
    let file = Location::new(path);
    let view =
        ArrayView2::from_shape((n_rows, n_cols), data).map_err(|_| ReadError::WriteShape {
            file: file.clone(),
            len: data.len(),
            n_rows,
            n_cols,
        })?;
    let out = create(&file)?;
    view.write_npy(out).map_err(|err| write_error(&file, &err))
}

/// Creates (or truncates) the output file.
fn create(file: &Location) -> Result<BufWriter<File>, ReadError> {
    File::create(&file.path)
        .map(BufWriter::new)
        .map_err(|err| write_error(file, &err))
}

fn write_error(file: &Location, err: &dyn std::error::Error) -> ReadError {
    ReadError::Write {
        file: file.clone(),
        detail: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_strings() {
        assert!(matches!(
            parse_type_str("<f4"),
            TypeStr::Scalar(Scalar::F32, Endian::Little)
        ));
        assert!(matches!(
            parse_type_str(">f8"),
            TypeStr::Scalar(Scalar::F64, Endian::Big)
        ));
        assert!(matches!(
            parse_type_str("|b1"),
            TypeStr::Scalar(Scalar::Bool, _)
        ));
        assert!(matches!(
            parse_type_str("|u1"),
            TypeStr::Scalar(Scalar::U8, _)
        ));
        assert!(matches!(parse_type_str("|O"), TypeStr::Object));
        assert!(matches!(parse_type_str("<c16"), TypeStr::Other));
        assert!(matches!(parse_type_str("|f4"), TypeStr::Other));
        assert!(matches!(parse_type_str(""), TypeStr::Other));
        assert!(matches!(parse_type_str("é"), TypeStr::Other));
    }

    #[test]
    fn structured_object_fields_are_found() {
        assert!(structured_has_object("[('a', '<f4'), ('b', '|O')]"));
        assert!(structured_has_object("[('b', 'O')]"));
        assert!(!structured_has_object("[('Obj', '<f4')]"));
    }

    #[test]
    fn nesting_is_measured() {
        assert_eq!(nesting_depth(b"{'shape': (2, 3), }"), 2);
        assert_eq!(nesting_depth(b"))(("), 2);
    }
}
