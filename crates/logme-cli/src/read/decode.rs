//! Element types of binary arrays and their conversion into logme's owned buffers.
//!
//! The `.npy`, `.npz` and `.safetensors` readers agree on a [`Scalar`] type, a byte order and a
//! shape; this module turns the raw bytes into `Vec<f32>` / `Vec<f64>` features or
//! [`LabelValues`]. Decoding streams over any [`Read`] in fixed-size chunks, so a reader over a
//! compressed archive member never needs a second full-size byte buffer, and the output grows
//! only as data actually arrives (never beyond the element count the header promised).

use std::io::{self, Read};

use half::{bf16, f16};

use super::LabelValues;

/// Bytes decoded per chunk; a multiple of every element size.
const CHUNK_BYTES: usize = 1 << 16;

/// An element type found in a binary array file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scalar {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    BF16,
    F32,
    F64,
}

impl Scalar {
    /// Size of one element in bytes.
    pub(super) fn size(self) -> usize {
        match self {
            Scalar::Bool | Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 | Scalar::F16 | Scalar::BF16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
        }
    }

    /// NumPy's name for the type, as shown to users.
    pub(super) fn name(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::I8 => "int8",
            Scalar::I16 => "int16",
            Scalar::I32 => "int32",
            Scalar::I64 => "int64",
            Scalar::U8 => "uint8",
            Scalar::U16 => "uint16",
            Scalar::U32 => "uint32",
            Scalar::U64 => "uint64",
            Scalar::F16 => "float16",
            Scalar::BF16 => "bfloat16",
            Scalar::F32 => "float32",
            Scalar::F64 => "float64",
        }
    }

    /// Whether features may have this type.
    pub(super) fn is_float(self) -> bool {
        matches!(self, Scalar::F16 | Scalar::BF16 | Scalar::F32 | Scalar::F64)
    }
}

/// Byte order of multi-byte elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endian {
    Little,
    Big,
}

/// Why decoding stopped; the caller adds the file name.
#[derive(Debug)]
pub(super) enum DecodeError {
    /// The reader failed.
    Io(io::Error),
    /// The reader ended after `got` bytes, short of the `expected` ones.
    Short { expected: u64, got: u64 },
    /// More bytes followed the `expected` ones.
    Trailing { expected: u64 },
    /// An unsigned 64-bit label above `i64::MAX`.
    LabelOutOfRange(u64),
    /// Features of a type that is not floating point.
    NotFloat,
}

impl From<io::Error> for DecodeError {
    fn from(err: io::Error) -> Self {
        DecodeError::Io(err)
    }
}

/// Decoded feature values: f16 and bf16 are widened to f32.
#[derive(Debug)]
pub(super) enum FeatureData {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// Converts `$bytes` into `$ty` in byte order `$endian`.
macro_rules! from_bytes {
    ($ty:ty, $bytes:expr, $endian:expr) => {
        match $endian {
            Endian::Little => <$ty>::from_le_bytes($bytes),
            Endian::Big => <$ty>::from_be_bytes($bytes),
        }
    };
}

/// Reads `n_elements` features of type `scalar` from `reader`, which must then be exhausted.
///
/// `initial_capacity` bounds the first allocation: the full count when the bytes are known to
/// be present (a checked slice), a small number when they still have to be decompressed.
pub(super) fn decode_features(
    reader: &mut dyn Read,
    scalar: Scalar,
    endian: Endian,
    n_elements: usize,
    initial_capacity: usize,
) -> Result<FeatureData, DecodeError> {
    let cap = initial_capacity;
    Ok(match scalar {
        Scalar::F16 => FeatureData::F32(decode::<2, f32>(reader, n_elements, cap, |b| {
            Ok(f16::from_bits(from_bytes!(u16, b, endian)).to_f32())
        })?),
        Scalar::BF16 => FeatureData::F32(decode::<2, f32>(reader, n_elements, cap, |b| {
            Ok(bf16::from_bits(from_bytes!(u16, b, endian)).to_f32())
        })?),
        Scalar::F32 => FeatureData::F32(decode::<4, f32>(reader, n_elements, cap, |b| {
            Ok(from_bytes!(f32, b, endian))
        })?),
        Scalar::F64 => FeatureData::F64(decode::<8, f64>(reader, n_elements, cap, |b| {
            Ok(from_bytes!(f64, b, endian))
        })?),
        _ => return Err(DecodeError::NotFloat),
    })
}

/// Reads `n_elements` labels of type `scalar` from `reader`, which must then be exhausted.
///
/// Booleans and integers become [`LabelValues::Int`] (`true` is 1), floats
/// [`LabelValues::Float`]. See [`decode_features`] for `initial_capacity`.
pub(super) fn decode_labels(
    reader: &mut dyn Read,
    scalar: Scalar,
    endian: Endian,
    n_elements: usize,
    initial_capacity: usize,
) -> Result<LabelValues, DecodeError> {
    let (n, cap) = (n_elements, initial_capacity);
    Ok(match scalar {
        Scalar::Bool => LabelValues::Int(decode::<1, i64>(reader, n, cap, |[b]| {
            Ok(i64::from(b != 0))
        })?),
        Scalar::I8 => LabelValues::Int(decode::<1, i64>(reader, n, cap, |b| {
            Ok(i64::from(i8::from_le_bytes(b)))
        })?),
        Scalar::U8 => LabelValues::Int(decode::<1, i64>(reader, n, cap, |[b]| Ok(i64::from(b)))?),
        Scalar::I16 => LabelValues::Int(decode::<2, i64>(reader, n, cap, |b| {
            Ok(i64::from(from_bytes!(i16, b, endian)))
        })?),
        Scalar::U16 => LabelValues::Int(decode::<2, i64>(reader, n, cap, |b| {
            Ok(i64::from(from_bytes!(u16, b, endian)))
        })?),
        Scalar::I32 => LabelValues::Int(decode::<4, i64>(reader, n, cap, |b| {
            Ok(i64::from(from_bytes!(i32, b, endian)))
        })?),
        Scalar::U32 => LabelValues::Int(decode::<4, i64>(reader, n, cap, |b| {
            Ok(i64::from(from_bytes!(u32, b, endian)))
        })?),
        Scalar::I64 => LabelValues::Int(decode::<8, i64>(reader, n, cap, |b| {
            Ok(from_bytes!(i64, b, endian))
        })?),
        Scalar::U64 => LabelValues::Int(decode::<8, i64>(reader, n, cap, |b| {
            let value = from_bytes!(u64, b, endian);
            i64::try_from(value).map_err(|_| DecodeError::LabelOutOfRange(value))
        })?),
        Scalar::F16 => LabelValues::Float(decode::<2, f64>(reader, n, cap, |b| {
            Ok(f16::from_bits(from_bytes!(u16, b, endian)).to_f64())
        })?),
        Scalar::BF16 => LabelValues::Float(decode::<2, f64>(reader, n, cap, |b| {
            Ok(bf16::from_bits(from_bytes!(u16, b, endian)).to_f64())
        })?),
        Scalar::F32 => LabelValues::Float(decode::<4, f64>(reader, n, cap, |b| {
            Ok(f64::from(from_bytes!(f32, b, endian)))
        })?),
        Scalar::F64 => LabelValues::Float(decode::<8, f64>(reader, n, cap, |b| {
            Ok(from_bytes!(f64, b, endian))
        })?),
    })
}

/// Reads `n_elements` elements of `N` bytes each, converting each one, then checks that the
/// reader holds nothing more.
fn decode<const N: usize, T>(
    reader: &mut dyn Read,
    n_elements: usize,
    initial_capacity: usize,
    mut convert: impl FnMut([u8; N]) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let expected = u64::try_from(n_elements)
        .unwrap_or(u64::MAX)
        .saturating_mul(N as u64);
    let mut out = Vec::with_capacity(initial_capacity.min(n_elements));
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut n_read: u64 = 0;
    let mut remaining = n_elements;
    while remaining > 0 {
        // Fill one chunk of whole elements; a short read means the data ends early.
        let n_chunk = remaining.min(CHUNK_BYTES / N);
        let chunk = &mut buf[..n_chunk * N];
        let got = fill(reader, chunk)?;
        n_read += got as u64;
        if got < chunk.len() {
            return Err(DecodeError::Short {
                expected,
                got: n_read,
            });
        }

        // Convert it, growing the output no further than the promised element count.
        reserve_clamped(&mut out, n_chunk, n_elements);
        let (elements, _) = chunk.as_chunks::<N>();
        for element in elements {
            out.push(convert(*element)?);
        }
        remaining -= n_chunk;
    }
    if fill(reader, &mut [0u8; 1])? != 0 {
        return Err(DecodeError::Trailing { expected });
    }
    Ok(out)
}

/// Makes room for `additional` more elements, doubling but never past `total`.
fn reserve_clamped<T>(out: &mut Vec<T>, additional: usize, total: usize) {
    if out.capacity() - out.len() >= additional {
        return;
    }
    let target = out
        .capacity()
        .saturating_mul(2)
        .max(out.len() + additional)
        .min(total);
    out.reserve_exact(target.saturating_sub(out.len()).max(additional));
}

/// Reads until `buf` is full or the reader ends; returns the number of bytes read.
pub(super) fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Reorders a column-major `n_rows x n_cols` buffer into row-major order.
pub(super) fn col_to_row_major<T: Copy>(data: Vec<T>, n_rows: usize, n_cols: usize) -> Vec<T> {
    if n_rows <= 1 || n_cols <= 1 {
        return data;
    }
    let columns: Vec<&[T]> = data.chunks_exact(n_rows).collect();
    let mut out = Vec::with_capacity(data.len());
    for row_idx in 0..n_rows {
        out.extend(columns.iter().filter_map(|column| column.get(row_idx)));
    }
    out
}

/// Bytes of data promised by `shape` with `item_size`-byte elements, saturating at `u128::MAX`.
pub(super) fn promised_bytes(shape: &[usize], item_size: usize) -> u128 {
    if shape.contains(&0) {
        return 0;
    }
    shape
        .iter()
        .try_fold(item_size as u128, |acc, &dim| acc.checked_mul(dim as u128))
        .unwrap_or(u128::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reports_short_and_trailing_data() {
        let bytes = [0u8; 10];
        match decode_features(&mut &bytes[..], Scalar::F32, Endian::Little, 3, 3) {
            Err(DecodeError::Short {
                expected: 12,
                got: 10,
            }) => {}
            other => panic!("unexpected {other:?}"),
        }
        match decode_features(&mut &bytes[..], Scalar::F32, Endian::Little, 2, 2) {
            Err(DecodeError::Trailing { expected: 8 }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn decode_spans_chunks_and_caps_capacity() {
        let n = CHUNK_BYTES / 8 * 3 + 5;
        let bytes: Vec<u8> = (0..n).flat_map(|i| (i as f64).to_be_bytes()).collect();
        let Ok(FeatureData::F64(values)) =
            decode_features(&mut &bytes[..], Scalar::F64, Endian::Big, n, 16)
        else {
            panic!("decoding failed");
        };
        assert_eq!(values.len(), n);
        assert!(values.capacity() <= n);
        assert!(values.iter().enumerate().all(|(i, v)| *v == i as f64));
    }

    #[test]
    fn promised_bytes_saturates_and_sees_zeros() {
        assert_eq!(promised_bytes(&[7, 3], 4), 84);
        assert_eq!(promised_bytes(&[usize::MAX, usize::MAX, 8], 8), u128::MAX);
        assert_eq!(promised_bytes(&[usize::MAX, usize::MAX, 8, 0], 8), 0);
        assert_eq!(promised_bytes(&[], 8), 8);
    }

    #[test]
    fn col_to_row_major_transposes() {
        // 2 x 3 matrix [[1, 2, 3], [4, 5, 6]] stored by columns.
        assert_eq!(
            col_to_row_major(vec![1, 4, 2, 5, 3, 6], 2, 3),
            vec![1, 2, 3, 4, 5, 6]
        );
        assert_eq!(col_to_row_major(Vec::<i64>::new(), 0, 3), Vec::<i64>::new());
    }
}
