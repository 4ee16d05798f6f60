//! Delimited numeric text: `.csv`, `.tsv` and `.txt`.
//!
//! - `.csv` is comma-separated and `.tsv` tab-separated, both with CSV quoting rules.
//! - `.txt` is split on runs of spaces and tabs, as `numpy.savetxt` writes by default, unless its
//!   first data line contains a comma, in which case it is read as comma-separated.
//!
//! In all three, fields are trimmed, blank lines and lines starting with `#` (the comment marker
//! of `numpy.savetxt`) are skipped, and a first row with any non-numeric field is a header. Every
//! other row must hold the same number of numeric fields; errors name the line and column.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::error::clip;
use super::{Location, ReadError};

/// How fields are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Delimiter {
    Comma,
    Tab,
    /// Runs of ASCII whitespace, or commas if the first data line has one (`.txt`).
    WhitespaceOrComma,
}

/// A numeric table in row-major order.
#[derive(Debug)]
pub(super) struct Table {
    pub(super) values: Vec<f64>,
    /// The same values as integers, while every value is integral and integers are tracked.
    pub(super) ints: Option<Vec<i64>>,
    pub(super) n_rows: usize,
    pub(super) n_cols: usize,
}

/// Reads a numeric table; with `track_ints` also keeps exact integers for label files.
pub(super) fn read_table(
    path: &Path,
    delimiter: Delimiter,
    track_ints: bool,
) -> Result<Table, ReadError> {
    let file = Location::new(path);
    let handle = open_text(&file)?;
    let mut builder = TableBuilder::new(&file, track_ints);
    let delimiter = match delimiter {
        Delimiter::Comma => Some(b','),
        Delimiter::Tab => Some(b'\t'),
        Delimiter::WhitespaceOrComma if first_data_line_has_comma(&file)? => Some(b','),
        Delimiter::WhitespaceOrComma => None,
    };
    match delimiter {
        Some(delimiter) => {
            for_each_csv_record(&file, handle, delimiter, |line, fields| {
                builder.push_row(line, fields.iter())
            })?;
        }
        None => read_whitespace(&file, handle, &mut builder)?,
    }
    Ok(builder.finish())
}

/// Opens a text file, refusing a 0-byte one.
pub(super) fn open_text(file: &Location) -> Result<File, ReadError> {
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
    Ok(handle)
}

/// Calls `on_record` with each non-comment CSV record and its 1-based line number.
pub(super) fn for_each_csv_record(
    file: &Location,
    handle: File,
    delimiter: u8,
    mut on_record: impl FnMut(u64, &csv::ByteRecord) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(handle);
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                on_record(line, &record)?;
            }
            Err(err) => return Err(csv_error(file, err)),
        }
    }
}

/// Turns a CSV reader error into a [`ReadError`] naming the line.
pub(super) fn csv_error(file: &Location, err: csv::Error) -> ReadError {
    let line = err.position().map_or(0, csv::Position::line);
    match err.into_kind() {
        csv::ErrorKind::Io(io) => ReadError::Io {
            file: file.clone(),
            io,
        },
        csv::ErrorKind::Utf8 { .. } => ReadError::Text {
            file: file.clone(),
            line,
            detail: "the line is not valid UTF-8; save the file as UTF-8".to_owned(),
        },
        kind => ReadError::Text {
            file: file.clone(),
            line,
            detail: format!("{kind:?}; check the file's quoting"),
        },
    }
}

/// Reads whitespace-separated rows.
fn read_whitespace(
    file: &Location,
    handle: File,
    builder: &mut TableBuilder<'_>,
) -> Result<(), ReadError> {
    let mut reader = BufReader::new(handle);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|io| ReadError::Io {
                file: file.clone(),
                io,
            })?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let content = buf.trim_ascii();
        if content.is_empty() || content.starts_with(b"#") {
            continue;
        }
        let fields = content
            .split(u8::is_ascii_whitespace)
            .filter(|field| !field.is_empty());
        builder.push_row(line, fields)?;
    }
}

/// Whether the first data line of a `.txt` file contains a comma.
fn first_data_line_has_comma(file: &Location) -> Result<bool, ReadError> {
    let io_error = |io| ReadError::Io {
        file: file.clone(),
        io,
    };
    let mut reader = BufReader::new(File::open(&file.path).map_err(io_error)?);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(io_error)? == 0 {
            return Ok(false);
        }
        let content = buf.trim_ascii();
        if !content.is_empty() && !content.starts_with(b"#") {
            return Ok(content.contains(&b','));
        }
    }
}

/// A number parsed from a field, with its exact integer value when it is integral.
struct Number {
    value: f64,
    int: Option<i64>,
}

/// Parses a field as a number (`1`, `-2.5`, `1e-3`, `nan`, `inf`), ignoring a UTF-8 byte
/// order mark.
fn parse_number(field: &[u8]) -> Option<Number> {
    let field = field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field);
    let text = std::str::from_utf8(field).ok()?;
    if let Ok(int) = text.parse::<i64>() {
        return Some(Number {
            value: int as f64,
            int: Some(int),
        });
    }
    let value = text.parse::<f64>().ok()?;
    // 2⁶³ is exact in f64; integral values in [-2⁶³, 2⁶³) convert to i64 exactly.
    let limit = 9_223_372_036_854_775_808.0;
    let int = (value.fract() == 0.0 && (-limit..limit).contains(&value)).then_some(value as i64);
    Some(Number { value, int })
}

/// Collects rows, detecting the header and checking widths.
struct TableBuilder<'a> {
    file: &'a Location,
    values: Vec<f64>,
    ints: Option<Vec<i64>>,
    /// Number of fields and the line that set it.
    width: Option<(usize, u64)>,
    n_rows: usize,
}

impl<'a> TableBuilder<'a> {
    fn new(file: &'a Location, track_ints: bool) -> Self {
        Self {
            file,
            values: Vec::new(),
            ints: track_ints.then(Vec::new),
            width: None,
            n_rows: 0,
        }
    }

    /// Adds one row of fields found on `line`.
    fn push_row<'f>(
        &mut self,
        line: u64,
        fields: impl Iterator<Item = &'f [u8]> + Clone,
    ) -> Result<(), ReadError> {
        if fields.clone().all(<[u8]>::is_empty) {
            return Ok(());
        }
        let n_fields = fields.clone().count();

        // The first row is a header if any of its fields is not a number.
        let Some((expected, expected_line)) = self.width else {
            self.width = Some((n_fields, line));
            if fields.clone().any(|field| parse_number(field).is_none()) {
                return Ok(());
            }
            return self.push_numbers(line, fields);
        };
        if n_fields != expected {
            return Err(ReadError::Ragged {
                file: self.file.clone(),
                line,
                found: n_fields,
                expected_line,
                expected,
            });
        }
        self.push_numbers(line, fields)
    }

    fn push_numbers<'f>(
        &mut self,
        line: u64,
        fields: impl Iterator<Item = &'f [u8]>,
    ) -> Result<(), ReadError> {
        for (col_idx, field) in fields.enumerate() {
            let Some(number) = parse_number(field) else {
                return Err(ReadError::NonNumeric {
                    file: self.file.clone(),
                    line,
                    column: col_idx + 1,
                    value: clip(String::from_utf8_lossy(field).into_owned()),
                });
            };
            self.values.push(number.value);
            match (&mut self.ints, number.int) {
                (Some(ints), Some(int)) => ints.push(int),
                (ints, _) => *ints = None,
            }
        }
        self.n_rows += 1;
        Ok(())
    }

    fn finish(self) -> Table {
        let n_cols = self.width.map_or(0, |(n_fields, _)| n_fields);
        Table {
            values: self.values,
            ints: self.ints,
            n_rows: self.n_rows,
            n_cols,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_integrality() {
        let int = |s: &str| parse_number(s.as_bytes()).and_then(|n| n.int);
        assert_eq!(int("42"), Some(42));
        assert_eq!(int("-3.0"), Some(-3));
        assert_eq!(int("1e3"), Some(1000));
        assert_eq!(int("0.5"), None);
        assert_eq!(int("nan"), None);
        assert_eq!(int("1e30"), None);
        assert!(parse_number(b"").is_none());
        assert!(parse_number(b"abc").is_none());
        assert_eq!(parse_number(b"\xEF\xBB\xBF7").map(|n| n.value), Some(7.0));
    }
}
