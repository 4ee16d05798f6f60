//! Errors of the file readers and writers.
//!
//! Every message names the file (and the array inside an archive), the problem with the numbers
//! that show it, and what to do about it. Messages are complete on their own: the underlying
//! I/O, zip or safetensors error is part of the text and not repeated as a `source()`, so
//! printing the error chain does not say the same thing twice.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where a problem was found: a file and, inside an `.npz` or `.safetensors` file, the key of
/// the array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The path as the caller gave it.
    pub path: PathBuf,
    /// The array's key inside an archive, if the problem is in one array.
    pub key: Option<String>,
}

impl Location {
    /// The whole file at `path`.
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            key: None,
        }
    }

    /// The array `key` inside the file at `path`.
    pub(crate) fn with_key(path: &Path, key: &str) -> Self {
        Self {
            path: path.to_path_buf(),
            key: Some(key.to_owned()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.path.display())?;
        if let Some(key) = &self.key {
            write!(f, " (array `{key}`)")?;
        }
        Ok(())
    }
}

/// What can go wrong reading or writing a feature, label or transfer file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {file}: {io}; {}", io_remedy(.io))]
    Io {
        /// The file.
        file: Location,
        /// The operating system's error.
        io: io::Error,
    },
    /// The file has no bytes at all.
    #[error("{file} is empty (0 bytes); export the data again")]
    Empty {
        /// The file.
        file: Location,
    },
    /// The extension names no format this tool reads.
    #[error(
        "{file} has extension `{extension}`, which is not a format logme reads; \
         use .npy, .npz, .safetensors, .csv, .tsv or .txt"
    )]
    UnknownExtension {
        /// The file.
        file: Location,
        /// The extension found, empty if none.
        extension: String,
    },
    /// A key was given for a format that holds a single array.
    #[error(
        "{file} holds a single array, so key `{key}` selects nothing; keys only apply to \
         .npz and .safetensors files, drop it"
    )]
    KeyNotApplicable {
        /// The file.
        file: Location,
        /// The key given.
        key: String,
    },
    /// The file does not start with the `.npy` magic bytes.
    #[error(
        "{file} is not a .npy file (it does not start with the .npy magic bytes); save the array \
         with numpy.save, or give the file the extension of its real format"
    )]
    NotNpy {
        /// The file.
        file: Location,
    },
    /// The `.npy` header cannot be parsed.
    #[error("{file} has an unreadable .npy header: {detail}; save the array again with numpy.save")]
    NpyHeader {
        /// The file.
        file: Location,
        /// What is wrong with the header.
        detail: String,
    },
    /// The array holds Python objects, which would need unpickling.
    #[error(
        "{file} holds Python objects (object dtype, stored with pickle), which logme never \
         unpickles; convert to a numeric array first, e.g. np.asarray(x, dtype=np.float32)"
    )]
    ObjectDtype {
        /// The file.
        file: Location,
    },
    /// The features have an element type that is not floating point.
    #[error(
        "{file} holds features of dtype {dtype}; features must be float16, bfloat16, float32 \
         or float64, convert with x.astype(np.float32)"
    )]
    FeatureDtype {
        /// The file.
        file: Location,
        /// The element type found.
        dtype: String,
    },
    /// The labels have an element type that is neither integer, boolean nor floating point.
    #[error(
        "{file} holds labels of dtype {dtype}; labels must be integers, booleans or floats, \
         convert class names to indices 0..K-1"
    )]
    LabelDtype {
        /// The file.
        file: Location,
        /// The element type found.
        dtype: String,
    },
    /// The data is shorter than the header promises.
    #[error(
        "{file} is truncated: header promises {promised} bytes of data, file has {actual}; \
         export or copy the file again"
    )]
    Truncated {
        /// The file.
        file: Location,
        /// Bytes the header's shape and element type promise (saturating at `u128::MAX`).
        promised: u128,
        /// Bytes actually present.
        actual: u64,
    },
    /// More data follows what the header promises.
    #[error(
        "{file} has {actual} bytes of data but its header promises {promised}; the file is \
         corrupt, export it again"
    )]
    TrailingData {
        /// The file.
        file: Location,
        /// Bytes the header's shape and element type promise.
        promised: u128,
        /// Bytes actually present (a lower bound for compressed data).
        actual: u64,
    },
    /// Features are not a 2-D array.
    #[error(
        "{file} holds features of shape {}; features must be 2-D [samples, features], {}",
        shape_text(.shape),
        feature_shape_remedy(.shape)
    )]
    FeatureShape {
        /// The file.
        file: Location,
        /// The shape found.
        shape: Vec<usize>,
    },
    /// Labels are neither 1-D nor 2-D.
    #[error(
        "{file} holds labels of shape {}; labels must be [samples] or [samples, targets], \
         squeeze or flatten the extra axes",
        shape_text(.shape)
    )]
    LabelShape {
        /// The file.
        file: Location,
        /// The shape found.
        shape: Vec<usize>,
    },
    /// The `.npz` archive cannot be read.
    #[error(
        "{file} is not a readable .npz archive: {detail}; save it again with numpy.savez or \
         numpy.savez_compressed"
    )]
    Archive {
        /// The file.
        file: Location,
        /// The zip reader's complaint.
        detail: String,
    },
    /// The `.safetensors` file is invalid.
    #[error(
        "{file} is not a valid .safetensors file: {detail}; save it again with \
         safetensors.torch.save_file or safetensors.numpy.save_file"
    )]
    Safetensors {
        /// The file.
        file: Location,
        /// The safetensors parser's complaint.
        detail: String,
    },
    /// The archive holds no arrays.
    #[error("{file} holds no arrays; save the features or labels into it")]
    NoArrays {
        /// The file.
        file: Location,
    },
    /// The archive holds several arrays and no key chose one.
    #[error("{file} holds several arrays ({}); choose one by its key", key_list(.available))]
    KeyRequired {
        /// The file.
        file: Location,
        /// The keys present.
        available: Vec<String>,
    },
    /// The archive has no array with the requested key.
    #[error("{file} has no array named `{key}`; available keys: {}", key_list(.available))]
    UnknownKey {
        /// The file.
        file: Location,
        /// The key asked for.
        key: String,
        /// The keys present.
        available: Vec<String>,
    },
    /// A text file cannot be parsed.
    #[error("{file}, line {line}: {detail}")]
    Text {
        /// The file.
        file: Location,
        /// 1-based line number.
        line: u64,
        /// What is wrong and what to do.
        detail: String,
    },
    /// A cell of a numeric text file is not a number.
    #[error(
        "{file}, line {line}, column {column}: {value:?} is not a number; \
         fix the cell or remove the row"
    )]
    NonNumeric {
        /// The file.
        file: Location,
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The cell's text.
        value: String,
    },
    /// A row has a different number of fields than the first one.
    #[error(
        "{file}, line {line} has {found} fields but line {expected_line} has {expected}; \
         give every row the same number of columns"
    )]
    Ragged {
        /// The file.
        file: Location,
        /// 1-based line number of the bad row.
        line: u64,
        /// Fields on that row.
        found: usize,
        /// 1-based line number of the row that set the width.
        expected_line: u64,
        /// Fields on that row.
        expected: usize,
    },
    /// An unsigned 64-bit label does not fit in `i64`.
    #[error(
        "{file} holds label {value}, which does not fit in a signed 64-bit integer; \
         number the classes 0..K-1"
    )]
    LabelOutOfRange {
        /// The file.
        file: Location,
        /// The label.
        value: u64,
    },
    /// A transfer file has no header line.
    #[error("{file} has no header; its first line must name the columns, e.g. `model,accuracy`")]
    MissingHeader {
        /// The file.
        file: Location,
    },
    /// A transfer file's header lacks a required column.
    #[error(
        "{file} has no `{column}` column in its header; name the columns `model,accuracy` \
         in the first line"
    )]
    MissingColumn {
        /// The file.
        file: Location,
        /// The missing column's name.
        column: &'static str,
    },
    /// A transfer file names the same model twice.
    #[error(
        "{file} lists model `{model}` on line {first_line} and again on line {line}; \
         keep one accuracy per model"
    )]
    DuplicateModel {
        /// The file.
        file: Location,
        /// The model name.
        model: String,
        /// 1-based line of the first occurrence.
        first_line: u64,
        /// 1-based line of the repetition.
        line: u64,
    },
    /// A transfer file's accuracy is NaN or infinite.
    #[error("{file}, line {line}: accuracy is {value}; give a finite number")]
    NonFiniteAccuracy {
        /// The file.
        file: Location,
        /// 1-based line number.
        line: u64,
        /// The value read.
        value: f64,
    },
    /// Writing an output file failed.
    #[error("cannot write {file}: {detail}; check that the directory exists and is writable")]
    Write {
        /// The file.
        file: Location,
        /// What failed.
        detail: String,
    },
    /// The values handed to a writer do not fill the shape.
    #[error(
        "cannot write {file}: {len} values do not fill a {n_rows} x {n_cols} matrix; \
         pass n_rows * n_cols values"
    )]
    WriteShape {
        /// The file.
        file: Location,
        /// Values given.
        len: usize,
        /// Rows asked for.
        n_rows: usize,
        /// Columns asked for.
        n_cols: usize,
    },
}

/// What to do about an I/O error.
fn io_remedy(err: &io::Error) -> &'static str {
    match err.kind() {
        io::ErrorKind::NotFound => "check the path",
        io::ErrorKind::PermissionDenied => "check the file's permissions",
        io::ErrorKind::IsADirectory => "pass a file, not a directory",
        _ => "check that the file is readable and complete",
    }
}

/// A shape as `[7, 3]`.
fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// How to turn an array of this shape into `[samples, features]`.
fn feature_shape_remedy(shape: &[usize]) -> &'static str {
    match shape.len() {
        0 => "save one row of features per sample",
        1 => {
            "reshape it: x.reshape(-1, 1) for one feature per sample, \
             x.reshape(1, -1) for one sample"
        }
        _ => {
            "pool or flatten to [samples, features], \
             e.g. x.mean(axis=1) over tokens or x.reshape(len(x), -1)"
        }
    }
}

/// Keys as `` `a`, `b` ``.
fn key_list(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
    quoted.join(", ")
}

/// Shortens text taken from a file to at most 200 characters for an error message.
pub(super) fn clip(text: String) -> String {
    const MAX_CHARS: usize = 200;
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text() {
        assert_eq!(clip("abc".to_owned()), "abc");
        let long = clip("é".repeat(500));
        assert_eq!(long.chars().count(), 203);
        assert!(long.ends_with("..."));
    }
}
