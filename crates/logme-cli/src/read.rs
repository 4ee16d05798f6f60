//! Readers for the features, labels and transfer results people export from PyTorch and NumPy,
//! and writers for the arrays logme saves.
//!
//! The format follows the file's extension:
//!
//! - `.npy`: features float16, float32 or float64 in C or Fortran order; labels bool, int8 to
//!   int64, uint8 to uint64, or floats. Little-endian float32/float64 features are viewed in
//!   place through a memory map, so a feature file of many gigabytes costs no copy; float16,
//!   big-endian or misaligned data is converted into an owned buffer.
//! - `.npz`: an archive of `.npy` arrays, stored or deflated, read into memory. The key is the
//!   member's name, with or without `.npy`; without a key the archive must hold one array.
//! - `.safetensors`: features F16, BF16, F32 or F64; labels BOOL, I8 to I64, U8 to U64 or
//!   floats. The key is the tensor's name; without a key the file must hold one tensor.
//! - `.csv` (comma), `.tsv` (tab), `.txt` (runs of whitespace, as `numpy.savetxt` writes, or
//!   commas if the first data line has one): fields are trimmed, blank lines and lines starting
//!   with `#` are skipped, and a first row with any non-numeric field is a header. Features are
//!   read as float64; labels are integers when every value is integral, else floats.
//!
//! Features are 2-D `[samples, features]`; labels are 1-D `[samples]` or 2-D
//! `[samples, targets]`. float16 and bfloat16 features are widened to f32, and labels are always
//! returned in row-major order.
//!
//! Files are untrusted input. Nothing is unpickled or executed: object dtypes are refused. Sizes
//! that come from a file (a header's shape, a zip directory's sizes) are checked against the
//! bytes actually present, with overflow-checked arithmetic, before anything is allocated from
//! them. Malformed input gives a [`ReadError`] naming the file, the problem and the remedy; no
//! input makes these readers panic. Empty arrays (0 rows or 0 columns) are returned as they
//! are, for the caller to judge; a 0-byte file is an error.
//!
//! # Limitations
//! A memory-mapped file must not be truncated or rewritten by another process while its
//! [`FeatureFile`] is alive; the operating system would then fault the process on access.
//! `.npz` members and `.safetensors` tensors are copied into memory.
//!
//! # Example
//! ```no_run
//! use std::path::Path;
//! use logme_cli::read::{FeatureFile, LabelFile, LabelValues};
//!
//! let features = FeatureFile::open(Path::new("features.npy"), None)?;
//! let labels = LabelFile::open(Path::new("labels.npz"), Some("y"))?;
//! let matrix = features.matrix();
//! assert_eq!(matrix.n_samples(), labels.n_rows);
//! if let LabelValues::Int(classes) = &labels.values {
//!     let n_classes = classes.iter().max().map_or(0, |k| k + 1);
//!     println!("{} samples, {n_classes} classes", classes.len());
//! }
//! # Ok::<(), logme_cli::read::ReadError>(())
//! ```

mod decode;
mod error;
mod npy;
mod npz;
mod tensors;
mod text;
mod transfer;

use std::fs::File;
use std::path::Path;

use logme::{Elements, FeatureMatrix, Order};
use memmap2::Mmap;

use decode::{DecodeError, FeatureData, Scalar};
pub use error::{Location, ReadError};
pub use npy::{write_npy_f64, write_npy_i64};
use text::Delimiter;
pub use transfer::read_transfer_csv;

/// A feature matrix `[n_samples, n_features]` read from a file.
///
/// The values are either viewed in place in a memory-mapped `.npy` file or held in an owned
/// buffer; [`FeatureFile::matrix`] borrows them without a copy either way.
#[derive(Debug)]
pub struct FeatureFile {
    storage: Storage,
    n_samples: usize,
    n_features: usize,
    order: Order,
    dtype: &'static str,
}

/// Where the feature values live.
#[derive(Debug)]
enum Storage {
    /// Little-endian f32 or f64 elements at an aligned offset of a mapped `.npy` file.
    Mapped {
        map: Mmap,
        offset: usize,
        len: usize,
        precision: Precision,
    },
    /// Converted or parsed single-precision values.
    F32(Vec<f32>),
    /// Converted or parsed double-precision values.
    F64(Vec<f64>),
}

/// Element type of mapped features.
#[derive(Clone, Copy, Debug)]
enum Precision {
    F32,
    F64,
}

impl FeatureFile {
    /// Reads the features in `path`, choosing the format by extension (see the module docs).
    ///
    /// `key` names the array inside an `.npz` or `.safetensors` file; without it the file must
    /// hold exactly one.
    ///
    /// # Errors
    /// A [`ReadError`] naming the file, the problem and the remedy: unreadable or empty file,
    /// unknown extension, malformed or truncated data, an element type that is not floating
    /// point, a shape that is not 2-D, a missing or unknown key, a key for a single-array
    /// format.
    pub fn open(path: &Path, key: Option<&str>) -> Result<FeatureFile, ReadError> {
        match Format::of(path, key)? {
            Format::Npy => npy::open_features(path),
            Format::Npz => npz::open_features(path, key),
            Format::Safetensors => tensors::open_features(path, key),
            Format::Text(delimiter) => {
                let table = text::read_table(path, delimiter, false)?;
                Ok(FeatureFile::from_data(
                    FeatureData::F64(table.values),
                    table.n_rows,
                    table.n_cols,
                    Order::RowMajor,
                    Scalar::F64,
                ))
            }
        }
    }

    /// A zero-copy view of the features: f32 or f64, row- or column-major.
    pub fn matrix(&self) -> FeatureMatrix<'_> {
        self.try_matrix()
            .expect("the storage was checked against the shape when the file was opened")
    }

    /// Number of samples (rows).
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Number of features (columns).
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The element type in the file: `"float16"` and `"bfloat16"` (both widened to f32 in
    /// memory), `"float32"` or `"float64"`. Text files report `"float64"`.
    pub fn dtype(&self) -> &'static str {
        self.dtype
    }

    /// Whether the values are viewed in place in a memory-mapped file rather than copied.
    pub fn is_memory_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped { .. })
    }

    /// Features over `storage`, whose length and alignment the caller has checked.
    fn new(
        storage: Storage,
        n_samples: usize,
        n_features: usize,
        order: Order,
        scalar: Scalar,
    ) -> Self {
        Self {
            storage,
            n_samples,
            n_features,
            order,
            dtype: scalar.name(),
        }
    }

    /// Features over decoded values.
    fn from_data(
        data: FeatureData,
        n_samples: usize,
        n_features: usize,
        order: Order,
        scalar: Scalar,
    ) -> Self {
        let storage = match data {
            FeatureData::F32(values) => Storage::F32(values),
            FeatureData::F64(values) => Storage::F64(values),
        };
        Self::new(storage, n_samples, n_features, order, scalar)
    }

    /// The view, or `None` if the storage does not fit the shape (never, once opened).
    fn try_matrix(&self) -> Option<FeatureMatrix<'_>> {
        let elements = match &self.storage {
            Storage::Mapped {
                map,
                offset,
                len,
                precision,
            } => {
                let bytes = map.get(*offset..offset.checked_add(*len)?)?;
                match precision {
                    Precision::F32 => Elements::F32(bytemuck::try_cast_slice(bytes).ok()?),
                    Precision::F64 => Elements::F64(bytemuck::try_cast_slice(bytes).ok()?),
                }
            }
            Storage::F32(values) => Elements::F32(values),
            Storage::F64(values) => Elements::F64(values),
        };
        FeatureMatrix::packed(elements, self.n_samples, self.n_features, self.order).ok()
    }
}

/// Labels read from a file, in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelFile {
    /// The values, `n_rows * n_cols` of them, row-major.
    pub values: LabelValues,
    /// Number of samples.
    pub n_rows: usize,
    /// Number of targets per sample (1 for a 1-D array).
    pub n_cols: usize,
    /// Whether the file held a 1-D array (for text files: a single column).
    pub one_dimensional: bool,
}

/// Label values: class indices or regression targets.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelValues {
    /// Booleans (as 0 and 1) and integers of any width.
    Int(Vec<i64>),
    /// Floating-point values of any width.
    Float(Vec<f64>),
}

impl LabelValues {
    /// Reorders column-major values into row-major order.
    fn col_to_row_major(self, n_rows: usize, n_cols: usize) -> Self {
        match self {
            LabelValues::Int(values) => {
                LabelValues::Int(decode::col_to_row_major(values, n_rows, n_cols))
            }
            LabelValues::Float(values) => {
                LabelValues::Float(decode::col_to_row_major(values, n_rows, n_cols))
            }
        }
    }
}

impl LabelFile {
    /// Reads the labels in `path`, choosing the format by extension (see the module docs).
    ///
    /// `key` names the array inside an `.npz` or `.safetensors` file; without it the file must
    /// hold exactly one. Text files give [`LabelValues::Int`] when every value is integral.
    ///
    /// # Errors
    /// A [`ReadError`] naming the file, the problem and the remedy: unreadable or empty file,
    /// unknown extension, malformed or truncated data, an unsupported element type, a shape
    /// that is neither 1-D nor 2-D, a uint64 label above `i64::MAX`, a missing or unknown key,
    /// a key for a single-array format.
    pub fn open(path: &Path, key: Option<&str>) -> Result<LabelFile, ReadError> {
        match Format::of(path, key)? {
            Format::Npy => npy::open_labels(path),
            Format::Npz => npz::open_labels(path, key),
            Format::Safetensors => tensors::open_labels(path, key),
            Format::Text(delimiter) => {
                let table = text::read_table(path, delimiter, true)?;
                let values = match table.ints {
                    Some(ints) => LabelValues::Int(ints),
                    None => LabelValues::Float(table.values),
                };
                Ok(LabelFile {
                    values,
                    n_rows: table.n_rows,
                    n_cols: table.n_cols,
                    one_dimensional: table.n_cols == 1,
                })
            }
        }
    }
}

/// A file format, chosen by extension.
enum Format {
    Npy,
    Npz,
    Safetensors,
    Text(Delimiter),
}

impl Format {
    /// The format of `path`; refuses a key for single-array formats.
    fn of(path: &Path, key: Option<&str>) -> Result<Format, ReadError> {
        let extension = path
            .extension()
            .map(|ext| ext.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let format = match extension.as_str() {
            "npy" => Format::Npy,
            "npz" => Format::Npz,
            "safetensors" => Format::Safetensors,
            "csv" => Format::Text(Delimiter::Comma),
            "tsv" => Format::Text(Delimiter::Tab),
            "txt" => Format::Text(Delimiter::WhitespaceOrComma),
            _ => {
                return Err(ReadError::UnknownExtension {
                    file: Location::new(path),
                    extension,
                });
            }
        };
        match (key, &format) {
            (Some(key), Format::Npy | Format::Text(_)) => Err(ReadError::KeyNotApplicable {
                file: Location::new(path),
                key: key.to_owned(),
            }),
            _ => Ok(format),
        }
    }
}

// Checks shared by the binary formats.

/// Maps a whole file read-only, refusing directories and 0-byte files.
fn map_file(file: &Location) -> Result<Mmap, ReadError> {
    let io_error = |io| ReadError::Io {
        file: file.clone(),
        io,
    };
    let handle = File::open(&file.path).map_err(io_error)?;
    let metadata = handle.metadata().map_err(io_error)?;
    if metadata.is_dir() {
        return Err(io_error(std::io::ErrorKind::IsADirectory.into()));
    }
    if metadata.len() == 0 {
        return Err(ReadError::Empty { file: file.clone() });
    }
    // SAFETY: the map is read-only and every access is bounds-checked against its length; the
    // bytes are treated as plain data (any bit pattern is a valid f32, f64 or u8). The remaining
    // hazard, another process truncating or rewriting the file while it is mapped, is the
    // documented limitation of memory-mapped reading (see the module docs).
    let map = unsafe { Mmap::map(&handle) }.map_err(io_error)?;
    // Scoring reads the file front to back once: let the kernel read ahead. A refusal costs only
    // speed, so it is ignored.
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// `(n_samples, n_features)` of a 2-D feature array.
fn feature_dims(file: &Location, shape: &[usize]) -> Result<(usize, usize), ReadError> {
    match *shape {
        [n_samples, n_features] => Ok((n_samples, n_features)),
        _ => Err(ReadError::FeatureShape {
            file: file.clone(),
            shape: shape.to_vec(),
        }),
    }
}

/// `(n_rows, n_cols, one_dimensional)` of a 1-D or 2-D label array.
fn label_dims(file: &Location, shape: &[usize]) -> Result<(usize, usize, bool), ReadError> {
    match *shape {
        [n_rows] => Ok((n_rows, 1, true)),
        [n_rows, n_cols] => Ok((n_rows, n_cols, false)),
        _ => Err(ReadError::LabelShape {
            file: file.clone(),
            shape: shape.to_vec(),
        }),
    }
}

/// Checks that `actual` data bytes are exactly what `shape` promises; returns the element count.
fn element_count(
    file: &Location,
    shape: &[usize],
    scalar: Scalar,
    actual: u64,
) -> Result<usize, ReadError> {
    let promised = decode::promised_bytes(shape, scalar.size());
    if promised > u128::from(actual) {
        return Err(ReadError::Truncated {
            file: file.clone(),
            promised,
            actual,
        });
    }
    if promised < u128::from(actual) {
        return Err(ReadError::TrailingData {
            file: file.clone(),
            promised,
            actual,
        });
    }
    // `promised` equals `actual`, which describes bytes in memory or in one zip member.
    usize::try_from(promised / scalar.size() as u128).map_err(|_| ReadError::Truncated {
        file: file.clone(),
        promised,
        actual: 0,
    })
}

/// Adds the file to a decoding error.
fn decode_error(file: &Location, err: DecodeError, scalar: Scalar) -> ReadError {
    let file = file.clone();
    match err {
        DecodeError::Io(io) => ReadError::Io { file, io },
        DecodeError::Short { expected, got } => ReadError::Truncated {
            file,
            promised: u128::from(expected),
            actual: got,
        },
        DecodeError::Trailing { expected } => ReadError::TrailingData {
            file,
            promised: u128::from(expected),
            actual: expected.saturating_add(1),
        },
        DecodeError::LabelOutOfRange(value) => ReadError::LabelOutOfRange { file, value },
        DecodeError::NotFloat => ReadError::FeatureDtype {
            file,
            dtype: scalar.name().to_owned(),
        },
    }
}
