//! The `.npz` format: a zip archive of `.npy` members, stored or deflated.
//!
//! `numpy.savez` names members `<key>.npy`; a key matches a member with or without that suffix.
//! A member is decompressed straight into the owned output buffer: its header is checked against
//! the size the zip directory declares before any data is read, and the buffer grows only as
//! decompressed data arrives, so neither a lying header nor a lying directory drives an
//! allocation.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use logme::Order;
use zip::ZipArchive;

use super::decode;
use super::npy::{self, NpyHeader};
use super::{FeatureFile, LabelFile, Location, ReadError};

/// Elements allocated before any decompressed data has been seen.
const INITIAL_ELEMENTS: usize = 1 << 20;

/// Opens features stored under `key` (or the only member) of an `.npz` archive.
pub(super) fn open_features(path: &Path, key: Option<&str>) -> Result<FeatureFile, ReadError> {
    with_member(path, key, |file, reader, header, data_len| {
        let scalar = header.feature_scalar(file)?;
        let (n_samples, n_features) = super::feature_dims(file, &header.shape)?;
        let n_elements = super::element_count(file, &header.shape, scalar, data_len)?;
        let values = decode::decode_features(
            reader,
            scalar,
            header.endian,
            n_elements,
            n_elements.min(INITIAL_ELEMENTS),
        )
        .map_err(|err| super::decode_error(file, err, scalar))?;
        let order = if header.fortran {
            Order::ColMajor
        } else {
            Order::RowMajor
        };
        Ok(FeatureFile::from_data(
            values, n_samples, n_features, order, scalar,
        ))
    })
}

/// Opens labels stored under `key` (or the only member) of an `.npz` archive.
pub(super) fn open_labels(path: &Path, key: Option<&str>) -> Result<LabelFile, ReadError> {
    with_member(path, key, |file, reader, header, data_len| {
        npy::labels_from_reader(file, header, reader, data_len, INITIAL_ELEMENTS)
    })
}

/// Finds the member, reads its `.npy` header and hands the rest to `read_data` together with
/// the number of data bytes the zip directory declares.
fn with_member<T>(
    path: &Path,
    key: Option<&str>,
    read_data: impl FnOnce(&Location, &mut dyn Read, &NpyHeader, u64) -> Result<T, ReadError>,
) -> Result<T, ReadError> {
    let whole = Location::new(path);
    let handle = File::open(path).map_err(|io| ReadError::Io {
        file: whole.clone(),
        io,
    })?;
    let file_len = handle
        .metadata()
        .map_err(|io| ReadError::Io {
            file: whole.clone(),
            io,
        })?
        .len();
    if file_len == 0 {
        return Err(ReadError::Empty { file: whole });
    }
    let mut archive =
        ZipArchive::new(BufReader::new(handle)).map_err(|err| ReadError::Archive {
            file: whole.clone(),
            detail: err.to_string(),
        })?;

    // Pick the member: by key, or the only one.
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter(|name| !name.ends_with('/'))
        .map(|name| name.into_owned())
        .collect();
    let keys: Vec<String> = names
        .iter()
        .map(|name| name.strip_suffix(".npy").unwrap_or(name).to_owned())
        .collect();
    let member = match key {
        Some(key) => names
            .iter()
            .find(|name| name.as_str() == key || name.strip_suffix(".npy") == Some(key))
            .ok_or_else(|| ReadError::UnknownKey {
                file: whole.clone(),
                key: key.to_owned(),
                available: keys.clone(),
            })?,
        None => match names.as_slice() {
            [only] => only,
            [] => return Err(ReadError::NoArrays { file: whole }),
            _ => {
                return Err(ReadError::KeyRequired {
                    file: whole,
                    available: keys,
                });
            }
        },
    };
    let file = Location::with_key(path, member.strip_suffix(".npy").unwrap_or(member));

    // Header first, checked against the declared size; the data is read by the caller.
    let mut reader = archive.by_name(member).map_err(|err| ReadError::Archive {
        file: file.clone(),
        detail: err.to_string(),
    })?;
    let declared = reader.size();
    let header = npy::read_header(&mut reader, declared, &file)?;
    let data_len = declared.saturating_sub(header.data_offset as u64);
    read_data(&file, &mut reader, &header, data_len)
}
