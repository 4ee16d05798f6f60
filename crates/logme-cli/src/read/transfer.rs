//! Transfer results: a CSV of each model's accuracy after fine-tuning, to rank scores against.
//!
//! ```text
//! model,accuracy,notes
//! resnet50,0.764,
//! vit-b16,0.812,"ImageNet-21k"
//! ```
//!
//! The header is required and must name `model` and `accuracy` columns (any order, any case);
//! other columns are ignored. Lines starting with `#` are comments.

use std::collections::HashMap;
use std::path::Path;

use super::error::clip;
use super::text::{for_each_csv_record, open_text};
use super::{Location, ReadError};

/// Reads `(model, accuracy)` pairs in file order from a CSV with a `model,accuracy` header.
///
/// # Errors
/// [`ReadError::MissingHeader`] or [`ReadError::MissingColumn`] without a proper header;
/// [`ReadError::DuplicateModel`] when a model appears twice; [`ReadError::NonNumeric`] and
/// [`ReadError::NonFiniteAccuracy`] for bad accuracies; [`ReadError::Ragged`] for a row
/// too short to hold both columns; [`ReadError::Io`] and [`ReadError::Empty`] for unreadable
/// files.
pub fn read_transfer_csv(path: &Path) -> Result<Vec<(String, f64)>, ReadError> {
    let file = Location::new(path);
    let handle = open_text(&file)?;
    let mut columns: Option<Columns> = None;
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    for_each_csv_record(&file, handle, b',', |line, record| {
        let field = |idx: usize| record.get(idx).map(|bytes| String::from_utf8_lossy(bytes));
        if record.iter().all(<[u8]>::is_empty) {
            return Ok(());
        }

        // The first record is the header.
        let Some(columns) = &columns else {
            columns = Some(Columns::find(&file, record)?);
            return Ok(());
        };

        // Every later record is one model.
        let needed = columns.model.max(columns.accuracy) + 1;
        let (Some(model), Some(accuracy)) = (field(columns.model), field(columns.accuracy)) else {
            return Err(ReadError::Ragged {
                file: file.clone(),
                line,
                found: record.len(),
                expected_line: columns.line,
                expected: needed,
            });
        };
        if model.is_empty() {
            return Err(ReadError::Text {
                file: file.clone(),
                line,
                detail: "the model name is empty; name every model".to_owned(),
            });
        }
        let Ok(value) = accuracy.parse::<f64>() else {
            return Err(ReadError::NonNumeric {
                file: file.clone(),
                line,
                column: columns.accuracy + 1,
                value: clip(accuracy.into_owned()),
            });
        };
        if !value.is_finite() {
            return Err(ReadError::NonFiniteAccuracy {
                file: file.clone(),
                line,
                value,
            });
        }
        if let Some(&first_line) = first_seen.get(model.as_ref()) {
            return Err(ReadError::DuplicateModel {
                file: file.clone(),
                model: model.into_owned(),
                first_line,
                line,
            });
        }
        first_seen.insert(model.to_string(), line);
        rows.push((model.into_owned(), value));
        Ok(())
    })?;
    if columns.is_none() {
        return Err(ReadError::MissingHeader { file });
    }
    Ok(rows)
}

/// Positions of the needed columns, from the header.
struct Columns {
    model: usize,
    accuracy: usize,
    /// 1-based line of the header.
    line: u64,
}

impl Columns {
    /// Finds `model` and `accuracy` in the header record.
    fn find(file: &Location, record: &csv::ByteRecord) -> Result<Self, ReadError> {
        let position = |name: &str| {
            record.iter().position(|field| {
                let field = field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field);
                field.eq_ignore_ascii_case(name.as_bytes())
            })
        };
        let line = record.position().map_or(0, csv::Position::line);
        match (position("model"), position("accuracy")) {
            (Some(model), Some(accuracy)) => Ok(Self {
                model,
                accuracy,
                line,
            }),
            // A first line that ends in a number is data: the header is missing altogether.
            _ if looks_like_data(record) => Err(ReadError::MissingHeader { file: file.clone() }),
            (None, _) => Err(ReadError::MissingColumn {
                file: file.clone(),
                column: "model",
            }),
            (_, None) => Err(ReadError::MissingColumn {
                file: file.clone(),
                column: "accuracy",
            }),
        }
    }
}

/// Whether a record holds a number after its first field, as a data row would.
fn looks_like_data(record: &csv::ByteRecord) -> bool {
    record
        .iter()
        .skip(1)
        .any(|field| std::str::from_utf8(field).is_ok_and(|text| text.parse::<f64>().is_ok()))
}
