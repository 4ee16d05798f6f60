//! File readers: every format yields the same matrix and labels, and every kind of bad file
//! yields an error that names the file, the problem and the remedy, without panicking.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use logme::Order;
use logme_cli::read::{
    FeatureFile, LabelFile, LabelValues, ReadError, read_transfer_csv, write_npy_f64, write_npy_i64,
};
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use tempfile::TempDir;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

const N_ROWS: usize = 7;
const N_COLS: usize = 3;

/// Reference value at (i, j): quarters, exact in float16, float32, float64 and decimal text.
fn value(row_idx: usize, col_idx: usize) -> f64 {
    (row_idx * N_COLS + col_idx) as f64 / 4.0 - 2.0
}

/// The reference values in the given order.
fn values_in(order: Order) -> Vec<f64> {
    let mut out = Vec::new();
    match order {
        Order::RowMajor => {
            for i in 0..N_ROWS {
                out.extend((0..N_COLS).map(|j| value(i, j)));
            }
        }
        Order::ColMajor => {
            for j in 0..N_COLS {
                out.extend((0..N_ROWS).map(|i| value(i, j)));
            }
        }
    }
    out
}

/// A `.npy` file image of format `version` (1 or 2), its header padded so the data starts at a
/// multiple of 64 bytes plus `extra`.
fn npy_image(
    version: u8,
    descr: &str,
    fortran: bool,
    shape: &[usize],
    data: &[u8],
    extra: usize,
) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape_text = match shape {
        [dim] => format!("({dim},)"),
        _ => format!("({})", dims.join(", ")),
    };
    let fortran_text = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {fortran_text}, 'shape': {shape_text}, }}")
            .into_bytes();
    let prelude_len = if version == 1 { 10 } else { 12 };
    let unpadded = prelude_len + header.len() + 1;
    header.resize(header.len() + (64 - unpadded % 64) % 64 + extra, b' ');
    header.push(b'\n');
    let mut out = vec![0x93, b'N', b'U', b'M', b'P', b'Y', version, 0];
    if version == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header);
    out.extend(data);
    out
}

/// A version 1.0 `.npy` file image with 64-byte aligned data.
fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    npy_image(1, descr, fortran, shape, data, 0)
}

/// Encodes each value with `encode`.
fn encode<const N: usize>(values: &[f64], to_bytes: impl Fn(f64) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|v| to_bytes(*v)).collect()
}

fn f32_le(order: Order) -> Vec<u8> {
    encode(&values_in(order), |v| (v as f32).to_le_bytes())
}

fn f64_le(order: Order) -> Vec<u8> {
    encode(&values_in(order), f64::to_le_bytes)
}

struct Dir(TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().expect("temporary directory"))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, bytes).expect("write test file");
        path
    }

    /// An `.npz` archive with the given members and compression.
    fn npz(&self, name: &str, members: &[(&str, Vec<u8>)], method: CompressionMethod) -> PathBuf {
        let path = self.path(name);
        let mut zip = zip::ZipWriter::new(fs::File::create(&path).expect("create npz"));
        for (member, bytes) in members {
            let options = SimpleFileOptions::default().compression_method(method);
            zip.start_file(*member, options).expect("start member");
            zip.write_all(bytes).expect("write member");
        }
        zip.finish().expect("finish npz");
        path
    }

    /// A `.safetensors` file with the given tensors.
    fn safetensors(&self, name: &str, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> PathBuf {
        let views = tensors.iter().map(|(name, dtype, shape, bytes)| {
            (
                name.to_string(),
                TensorView::new(*dtype, shape.clone(), bytes).expect("tensor view"),
            )
        });
        let bytes = safetensors::serialize(views, None).expect("serialize");
        self.write(name, &bytes)
    }
}

/// Checks that `features` hold the reference matrix.
#[track_caller]
fn assert_reference(features: &FeatureFile) {
    assert_eq!(
        (features.n_samples(), features.n_features()),
        (N_ROWS, N_COLS)
    );
    let matrix = features.matrix();
    assert_eq!((matrix.n_samples(), matrix.n_features()), (N_ROWS, N_COLS));
    for i in 0..N_ROWS {
        for j in 0..N_COLS {
            assert_eq!(matrix.get(i, j), value(i, j), "element ({i}, {j})");
        }
    }
}

#[track_caller]
fn open_features(path: &Path, key: Option<&str>) -> FeatureFile {
    FeatureFile::open(path, key).unwrap_or_else(|err| panic!("{err}"))
}

#[track_caller]
fn open_labels(path: &Path, key: Option<&str>) -> LabelFile {
    LabelFile::open(path, key).unwrap_or_else(|err| panic!("{err}"))
}

/// The error's message, which must name the file.
#[track_caller]
fn feature_error(path: &Path, key: Option<&str>) -> (ReadError, String) {
    match FeatureFile::open(path, key) {
        Ok(_) => panic!("{} opened without error", path.display()),
        Err(err) => {
            let message = err.to_string();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            assert!(
                message.contains(name),
                "message does not name the file: {message}"
            );
            assert!(
                !message.ends_with('.'),
                "message ends with a period: {message}"
            );
            (err, message)
        }
    }
}

#[track_caller]
fn label_error(path: &Path, key: Option<&str>) -> (ReadError, String) {
    match LabelFile::open(path, key) {
        Ok(_) => panic!("{} opened without error", path.display()),
        Err(err) => {
            let message = err.to_string();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            assert!(
                message.contains(name),
                "message does not name the file: {message}"
            );
            (err, message)
        }
    }
}

// Features: every format gives the same matrix.

#[test]
fn npy_f32_c_order_is_memory_mapped() {
    let dir = Dir::new();
    let path = dir.write(
        "f32.npy",
        &npy_bytes("<f4", false, &[7, 3], &f32_le(Order::RowMajor)),
    );
    let features = open_features(&path, None);
    assert_reference(&features);
    assert!(features.is_memory_mapped());
    assert_eq!(features.dtype(), "float32");
    assert_eq!(features.matrix().order(), Order::RowMajor);
}

#[test]
fn npy_f64_fortran_order_is_memory_mapped() {
    let dir = Dir::new();
    let path = dir.write(
        "f64.npy",
        &npy_bytes("<f8", true, &[7, 3], &f64_le(Order::ColMajor)),
    );
    let features = open_features(&path, None);
    assert_reference(&features);
    assert!(features.is_memory_mapped());
    assert_eq!(features.dtype(), "float64");
    assert_eq!(features.matrix().order(), Order::ColMajor);
}

#[test]
fn npy_f16_is_widened() {
    let dir = Dir::new();
    let data = encode(&values_in(Order::RowMajor), |v| {
        half::f16::from_f64(v).to_le_bytes()
    });
    let path = dir.write("f16.npy", &npy_bytes("<f2", false, &[7, 3], &data));
    let features = open_features(&path, None);
    assert_reference(&features);
    assert!(!features.is_memory_mapped());
    assert_eq!(features.dtype(), "float16");
}

#[test]
fn npy_big_endian_is_converted() {
    let dir = Dir::new();
    let data = encode(&values_in(Order::RowMajor), f64::to_be_bytes);
    let path = dir.write("be.npy", &npy_bytes(">f8", false, &[7, 3], &data));
    let features = open_features(&path, None);
    assert_reference(&features);
    assert!(!features.is_memory_mapped());

    let data = encode(&values_in(Order::ColMajor), |v| (v as f32).to_be_bytes());
    let path = dir.write("be32.npy", &npy_bytes(">f4", true, &[7, 3], &data));
    assert_reference(&open_features(&path, None));
}

#[test]
fn npy_misaligned_data_falls_back_to_a_copy() {
    let dir = Dir::new();
    let bytes = npy_image(1, "<f8", false, &[7, 3], &f64_le(Order::RowMajor), 4);
    let path = dir.write("misaligned.npy", &bytes);
    let features = open_features(&path, None);
    assert_reference(&features);
    assert!(!features.is_memory_mapped());
}

#[test]
fn npy_version_2_header_is_read() {
    let dir = Dir::new();
    let v2 = npy_image(2, "<f4", false, &[7, 3], &f32_le(Order::RowMajor), 0);
    let path = dir.write("v2.npy", &v2);
    let features = open_features(&path, None);
    assert_reference(&features);
    assert!(features.is_memory_mapped());
}

#[test]
fn npz_stored_and_deflated_with_key_and_default() {
    let dir = Dir::new();
    let f32_member = npy_bytes("<f4", false, &[7, 3], &f32_le(Order::RowMajor));
    let f64_member = npy_bytes("<f8", true, &[7, 3], &f64_le(Order::ColMajor));
    for (name, method) in [
        ("stored.npz", CompressionMethod::Stored),
        ("deflated.npz", CompressionMethod::Deflated),
    ] {
        let single = dir.npz(
            &format!("single-{name}"),
            &[("arr_0.npy", f32_member.clone())],
            method,
        );
        let features = open_features(&single, None);
        assert_reference(&features);
        assert!(!features.is_memory_mapped());
        assert_reference(&open_features(&single, Some("arr_0")));
        assert_reference(&open_features(&single, Some("arr_0.npy")));

        let pair = dir.npz(
            name,
            &[
                ("features.npy", f32_member.clone()),
                ("logits.npy", f64_member.clone()),
            ],
            method,
        );
        assert_eq!(open_features(&pair, Some("features")).dtype(), "float32");
        let logits = open_features(&pair, Some("logits.npy"));
        assert_reference(&logits);
        assert_eq!(logits.matrix().order(), Order::ColMajor);
    }
}

#[test]
fn safetensors_f32_f64_f16_bf16() {
    let dir = Dir::new();
    let row_major = values_in(Order::RowMajor);
    let shape = vec![7, 3];
    let path = dir.safetensors(
        "model.safetensors",
        &[
            ("f32", Dtype::F32, shape.clone(), f32_le(Order::RowMajor)),
            ("f64", Dtype::F64, shape.clone(), f64_le(Order::RowMajor)),
            (
                "f16",
                Dtype::F16,
                shape.clone(),
                encode(&row_major, |v| half::f16::from_f64(v).to_le_bytes()),
            ),
            (
                "bf16",
                Dtype::BF16,
                shape.clone(),
                encode(&row_major, |v| half::bf16::from_f64(v).to_le_bytes()),
            ),
        ],
    );
    for (key, dtype) in [
        ("f32", "float32"),
        ("f64", "float64"),
        ("f16", "float16"),
        ("bf16", "bfloat16"),
    ] {
        let features = open_features(&path, Some(key));
        assert_reference(&features);
        assert_eq!(features.dtype(), dtype);
    }

    let single = dir.safetensors(
        "single.safetensors",
        &[("emb", Dtype::F64, shape, f64_le(Order::RowMajor))],
    );
    assert_reference(&open_features(&single, None));
}

#[test]
fn text_formats_with_and_without_header() {
    let dir = Dir::new();
    let rows: Vec<Vec<String>> = (0..N_ROWS)
        .map(|i| (0..N_COLS).map(|j| value(i, j).to_string()).collect())
        .collect();
    let join = |sep: &str| {
        rows.iter()
            .map(|row| row.join(sep))
            .collect::<Vec<_>>()
            .join("\n")
    };

    let cases = [
        ("plain.csv", join(",")),
        ("header.csv", format!("a,b,c\n{}\n", join(","))),
        (
            "spaced.csv",
            format!(
                "# exported\n\"f0\", f1 ,f2\r\n{}\r\n\n",
                join(", ").replace('\n', "\r\n")
            ),
        ),
        ("plain.tsv", join("\t")),
        ("header.tsv", format!("a\tb\tc\n{}", join("\t"))),
        (
            "spaces.txt",
            format!("# numpy.savetxt header\n{}\n", join("  ")),
        ),
        ("commas.txt", format!("x,y,z\n{}\n", join(","))),
    ];
    for (name, contents) in cases {
        let features = open_features(&dir.write(name, contents.as_bytes()), None);
        assert_reference(&features);
        assert_eq!(features.dtype(), "float64", "{name}");
    }
}

#[test]
fn empty_arrays_are_returned_as_such() {
    let dir = Dir::new();
    let path = dir.write("empty.npy", &npy_bytes("<f4", false, &[0, 3], &[]));
    let features = open_features(&path, None);
    assert_eq!((features.n_samples(), features.n_features()), (0, 3));
    assert_eq!(features.matrix().n_samples(), 0);

    let path = dir.write("header-only.csv", b"a,b\n");
    let features = open_features(&path, None);
    assert_eq!((features.n_samples(), features.n_features()), (0, 2));

    let path = dir.write("empty-labels.npy", &npy_bytes("<i8", false, &[0], &[]));
    let labels = open_labels(&path, None);
    assert_eq!(labels.values, LabelValues::Int(vec![]));
    assert_eq!(labels.n_rows, 0);
}

#[test]
fn writers_round_trip() {
    let dir = Dir::new();
    let path = dir.path("scores.npy");
    write_npy_f64(&path, &values_in(Order::RowMajor), N_ROWS, N_COLS).expect("write f64");
    let features = open_features(&path, None);
    assert_reference(&features);
    assert!(features.is_memory_mapped());

    let path = dir.path("classes.npy");
    write_npy_i64(&path, &[3, -1, i64::MAX, i64::MIN]).expect("write i64");
    let labels = open_labels(&path, None);
    assert_eq!(
        labels.values,
        LabelValues::Int(vec![3, -1, i64::MAX, i64::MIN])
    );
    assert!(labels.one_dimensional);

    let err = write_npy_f64(&dir.path("bad.npy"), &[1.0, 2.0, 3.0], 2, 2).unwrap_err();
    assert!(matches!(err, ReadError::WriteShape { len: 3, .. }), "{err}");
    let err = write_npy_i64(&dir.path("missing/dir/x.npy"), &[1]).unwrap_err();
    assert!(err.to_string().contains("cannot write"), "{err}");
}

// Labels.

#[test]
fn npy_labels_of_every_integer_width_bool_and_float() {
    let dir = Dir::new();
    let ints = |values: &[i64]| LabelValues::Int(values.to_vec());
    let cases: Vec<(&str, Vec<u8>, usize, LabelValues)> = vec![
        (
            "|i1",
            [0i8, -1, 127, -128]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            4,
            ints(&[0, -1, 127, -128]),
        ),
        ("|u1", vec![0, 255, 7], 3, ints(&[0, 255, 7])),
        (
            "<i2",
            [-300i16, 2].iter().flat_map(|v| v.to_le_bytes()).collect(),
            2,
            ints(&[-300, 2]),
        ),
        (
            "<u2",
            [0u16, 65535, 9]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            3,
            ints(&[0, 65535, 9]),
        ),
        (
            "<i4",
            [5i32, -7].iter().flat_map(|v| v.to_le_bytes()).collect(),
            2,
            ints(&[5, -7]),
        ),
        (
            "<u4",
            [u32::MAX].iter().flat_map(|v| v.to_le_bytes()).collect(),
            1,
            ints(&[u32::MAX.into()]),
        ),
        (
            "<i8",
            [i64::MIN, 3].iter().flat_map(|v| v.to_le_bytes()).collect(),
            2,
            ints(&[i64::MIN, 3]),
        ),
        (
            ">i8",
            [1i64, -2].iter().flat_map(|v| v.to_be_bytes()).collect(),
            2,
            ints(&[1, -2]),
        ),
        (
            "<u8",
            [i64::MAX as u64]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            1,
            ints(&[i64::MAX]),
        ),
        ("|b1", vec![1, 0, 1, 1], 4, ints(&[1, 0, 1, 1])),
        (
            "<f4",
            [0.5f32, -1.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            2,
            LabelValues::Float(vec![0.5, -1.0]),
        ),
        (
            "<f8",
            [2.25f64].iter().flat_map(|v| v.to_le_bytes()).collect(),
            1,
            LabelValues::Float(vec![2.25]),
        ),
        (
            "<f2",
            [half::f16::from_f32(1.5)]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            1,
            LabelValues::Float(vec![1.5]),
        ),
    ];
    for (idx, (descr, data, n, expected)) in cases.into_iter().enumerate() {
        let path = dir.write(
            &format!("labels{idx}.npy"),
            &npy_bytes(descr, false, &[n], &data),
        );
        let labels = open_labels(&path, None);
        assert_eq!(labels.values, expected, "{descr}");
        assert_eq!(
            (labels.n_rows, labels.n_cols, labels.one_dimensional),
            (n, 1, true),
            "{descr}"
        );
    }
}

#[test]
fn two_dimensional_labels_come_back_row_major() {
    let dir = Dir::new();
    // [[1, 2], [3, 4], [5, 6]] stored column by column.
    let data: Vec<u8> = [1i32, 3, 5, 2, 4, 6]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let path = dir.write("multi.npy", &npy_bytes("<i4", true, &[3, 2], &data));
    let labels = open_labels(&path, None);
    assert_eq!(labels.values, LabelValues::Int(vec![1, 2, 3, 4, 5, 6]));
    assert_eq!(
        (labels.n_rows, labels.n_cols, labels.one_dimensional),
        (3, 2, false)
    );

    let data: Vec<u8> = [1i64, 0, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let path = dir.write("column.npy", &npy_bytes("<i8", false, &[3, 1], &data));
    let labels = open_labels(&path, None);
    assert_eq!(
        (labels.n_rows, labels.n_cols, labels.one_dimensional),
        (3, 1, false)
    );
}

#[test]
fn npz_and_safetensors_labels() {
    let dir = Dir::new();
    let data: Vec<u8> = [0i64, 2, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let member = npy_bytes("<i8", false, &[3], &data);
    let path = dir.npz(
        "labels.npz",
        &[("y.npy", member)],
        CompressionMethod::Deflated,
    );
    assert_eq!(
        open_labels(&path, None).values,
        LabelValues::Int(vec![0, 2, 1])
    );
    assert_eq!(
        open_labels(&path, Some("y")).values,
        LabelValues::Int(vec![0, 2, 1])
    );

    let path = dir.safetensors(
        "labels.safetensors",
        &[
            ("y", Dtype::I64, vec![3], data.clone()),
            ("mask", Dtype::BOOL, vec![3], vec![1, 0, 1]),
            ("bytes", Dtype::U8, vec![3], vec![9, 8, 7]),
            (
                "target",
                Dtype::F32,
                vec![1, 2],
                [0.5f32, 1.5].iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
        ],
    );
    assert_eq!(
        open_labels(&path, Some("y")).values,
        LabelValues::Int(vec![0, 2, 1])
    );
    assert_eq!(
        open_labels(&path, Some("mask")).values,
        LabelValues::Int(vec![1, 0, 1])
    );
    assert_eq!(
        open_labels(&path, Some("bytes")).values,
        LabelValues::Int(vec![9, 8, 7])
    );
    let target = open_labels(&path, Some("target"));
    assert_eq!(target.values, LabelValues::Float(vec![0.5, 1.5]));
    assert_eq!(
        (target.n_rows, target.n_cols, target.one_dimensional),
        (1, 2, false)
    );
}

#[test]
fn csv_labels_are_int_when_integral() {
    let dir = Dir::new();
    let labels = open_labels(&dir.write("y.csv", b"label\n0\n2\n1.0\n"), None);
    assert_eq!(labels.values, LabelValues::Int(vec![0, 2, 1]));
    assert_eq!(
        (labels.n_rows, labels.n_cols, labels.one_dimensional),
        (3, 1, true)
    );

    let labels = open_labels(&dir.write("y.tsv", b"0.5\t1\n2\t3\n"), None);
    assert_eq!(labels.values, LabelValues::Float(vec![0.5, 1.0, 2.0, 3.0]));
    assert_eq!(
        (labels.n_rows, labels.n_cols, labels.one_dimensional),
        (2, 2, false)
    );

    let labels = open_labels(&dir.write("y.txt", b"3\n4\n"), None);
    assert_eq!(labels.values, LabelValues::Int(vec![3, 4]));
}

// Transfer results.

#[test]
fn transfer_csv_reads_pairs_in_order() {
    let dir = Dir::new();
    let path = dir.write(
        "transfer.csv",
        b"Model,notes,Accuracy\nresnet50,\"ImageNet, 1k\",0.764\nvit-b16,,81.2\n",
    );
    let rows = read_transfer_csv(&path).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        rows,
        vec![("resnet50".to_owned(), 0.764), ("vit-b16".to_owned(), 81.2)]
    );
}

#[test]
fn transfer_csv_errors() {
    let dir = Dir::new();
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "dup.csv",
            b"model,accuracy\na,0.5\nb,0.6\na,0.7\n",
            "model `a` on line 2 and again on line 4",
        ),
        ("noheader.csv", b"a,0.5\nb,0.6\n", "has no header"),
        (
            "nocolumn.csv",
            b"model,score\na,0.5\n",
            "no `accuracy` column",
        ),
        (
            "nan.csv",
            b"model,accuracy\na,NaN\n",
            "line 2: accuracy is NaN",
        ),
        (
            "text.csv",
            b"model,accuracy\na,high\n",
            "line 2, column 2: \"high\" is not a number",
        ),
        (
            "short.csv",
            b"model,accuracy\na\n",
            "line 2 has 1 fields but line 1 has 2",
        ),
    ];
    for (name, contents, expected) in cases {
        let path = dir.write(name, contents);
        let err = read_transfer_csv(&path).expect_err(name);
        let message = err.to_string();
        assert!(message.contains(expected), "{name}: {message}");
        assert!(message.contains(name), "{name}: {message}");
    }
    let err = read_transfer_csv(&dir.write("blank.csv", b"")).unwrap_err();
    assert!(matches!(err, ReadError::Empty { .. }), "{err}");
}

// Errors.

#[test]
fn missing_file() {
    let dir = Dir::new();
    for name in [
        "missing.npy",
        "missing.npz",
        "missing.safetensors",
        "missing.csv",
    ] {
        let (err, message) = feature_error(&dir.path(name), None);
        assert!(matches!(err, ReadError::Io { .. }), "{message}");
        assert!(message.contains("check the path"), "{message}");
    }
}

#[test]
fn truncated_npy() {
    let dir = Dir::new();
    let mut bytes = npy_bytes("<f4", false, &[7, 3], &f32_le(Order::RowMajor));
    bytes.truncate(bytes.len() - 4);
    let (_, message) = feature_error(&dir.write("cut.npy", &bytes), None);
    assert!(
        message.contains("is truncated: header promises 84 bytes of data, file has 80"),
        "{message}"
    );

    // The same file inside an archive.
    let path = dir.npz(
        "cut.npz",
        &[("x.npy", bytes.clone())],
        CompressionMethod::Deflated,
    );
    let (_, message) = feature_error(&path, None);
    assert!(
        message.contains("is truncated: header promises 84 bytes of data, file has 80"),
        "{message}"
    );

    // Cut inside the header.
    let (_, message) = feature_error(&dir.write("cut-header.npy", &bytes[..40]), None);
    assert!(message.contains("ends inside the header"), "{message}");

    // Extra bytes after the data.
    let mut long = npy_bytes("<f4", false, &[7, 3], &f32_le(Order::RowMajor));
    long.extend([0; 4]);
    let (err, _) = feature_error(&dir.write("long.npy", &long), None);
    assert!(
        matches!(
            err,
            ReadError::TrailingData {
                promised: 84,
                actual: 88,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn not_an_npy_file() {
    let dir = Dir::new();
    let (err, message) = feature_error(&dir.write("fake.npy", b"PK\x03\x04 this is a zip"), None);
    assert!(matches!(err, ReadError::NotNpy { .. }), "{message}");
    assert!(message.contains("not a .npy file"), "{message}");

    let (err, _) = feature_error(&dir.write("tiny.npy", b"\x93NU"), None);
    assert!(matches!(err, ReadError::NotNpy { .. }), "{err}");

    let (err, _) = feature_error(&dir.write("zero.npy", b""), None);
    assert!(matches!(err, ReadError::Empty { .. }), "{err}");

    let (err, _) = feature_error(&dir.write("garbage.npz", b"not a zip archive at all"), None);
    assert!(matches!(err, ReadError::Archive { .. }), "{err}");

    let (err, _) = feature_error(
        &dir.write("garbage.safetensors", b"\x10\0\0\0\0\0\0\0{]"),
        None,
    );
    assert!(matches!(err, ReadError::Safetensors { .. }), "{err}");

    let (err, _) = feature_error(&dir.write("features.parquet", b"PAR1"), None);
    assert!(matches!(err, ReadError::UnknownExtension { .. }), "{err}");

    let (err, _) = feature_error(
        &dir.write("bad-version.npy", b"\x93NUMPY\x09\x00\x10\x00"),
        None,
    );
    assert!(err.to_string().contains("version 9.0"), "{err}");
}

#[test]
fn wrong_feature_shapes_name_the_shape_and_the_remedy() {
    let dir = Dir::new();
    let data = encode(&[0.0; 42], |v| (v as f32).to_le_bytes());
    let (err, message) = feature_error(
        &dir.write("tokens.npy", &npy_bytes("<f4", false, &[7, 3, 2], &data)),
        None,
    );
    assert!(matches!(err, ReadError::FeatureShape { .. }), "{message}");
    assert!(message.contains("shape [7, 3, 2]"), "{message}");
    assert!(
        message.contains("pool or flatten to [samples, features]"),
        "{message}"
    );

    let data = encode(&[0.0; 7], |v| (v as f32).to_le_bytes());
    let (_, message) = feature_error(
        &dir.write("vector.npy", &npy_bytes("<f4", false, &[7], &data)),
        None,
    );
    assert!(message.contains("shape [7]"), "{message}");
    assert!(message.contains("reshape"), "{message}");

    let data = encode(&[0.0; 2], f64::to_le_bytes);
    let path = dir.safetensors("vector.safetensors", &[("x", Dtype::F64, vec![2], data)]);
    let (err, _) = feature_error(&path, None);
    assert!(matches!(err, ReadError::FeatureShape { .. }), "{err}");

    let data: Vec<u8> = vec![0; 8];
    let (err, message) = label_error(
        &dir.write("cube.npy", &npy_bytes("|u1", false, &[2, 2, 2], &data)),
        None,
    );
    assert!(matches!(err, ReadError::LabelShape { .. }), "{message}");

    let (err, message) = feature_error(
        &dir.write("ints.npy", &npy_bytes("<i8", false, &[1, 1], &[0; 8])),
        None,
    );
    assert!(matches!(err, ReadError::FeatureDtype { .. }), "{message}");
    assert!(
        message.contains("int64") && message.contains("astype"),
        "{message}"
    );
}

#[test]
fn npz_keys() {
    let dir = Dir::new();
    let member = npy_bytes("<f4", false, &[7, 3], &f32_le(Order::RowMajor));
    let path = dir.npz(
        "two.npz",
        &[("features.npy", member.clone()), ("labels.npy", member)],
        CompressionMethod::Stored,
    );
    let (err, message) = feature_error(&path, Some("logits"));
    assert!(matches!(err, ReadError::UnknownKey { .. }), "{message}");
    assert!(
        message.contains("`logits`") && message.contains("`features`, `labels`"),
        "{message}"
    );

    let (err, message) = feature_error(&path, None);
    assert!(matches!(err, ReadError::KeyRequired { .. }), "{message}");
    assert!(message.contains("`features`, `labels`"), "{message}");

    let path = dir.npz("none.npz", &[], CompressionMethod::Stored);
    let (err, _) = feature_error(&path, None);
    assert!(matches!(err, ReadError::NoArrays { .. }), "{err}");

    let safetensors = dir.safetensors(
        "two.safetensors",
        &[
            ("a", Dtype::F32, vec![7, 3], f32_le(Order::RowMajor)),
            ("b", Dtype::F32, vec![7, 3], f32_le(Order::RowMajor)),
        ],
    );
    let (err, message) = feature_error(&safetensors, Some("c"));
    assert!(
        matches!(err, ReadError::UnknownKey { .. }) && message.contains("`a`, `b`"),
        "{message}"
    );
    let (err, _) = feature_error(&safetensors, None);
    assert!(matches!(err, ReadError::KeyRequired { .. }), "{err}");

    let npy = dir.write(
        "plain.npy",
        &npy_bytes("<f4", false, &[7, 3], &f32_le(Order::RowMajor)),
    );
    let (err, _) = feature_error(&npy, Some("x"));
    assert!(matches!(err, ReadError::KeyNotApplicable { .. }), "{err}");
}

#[test]
fn object_and_structured_dtypes_are_refused() {
    let dir = Dir::new();
    // A pickled object array: header says 'O', data is a pickle stream that must never run.
    let pickle =
        b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94.";
    let (err, message) = feature_error(
        &dir.write("object.npy", &npy_bytes("|O", false, &[1], pickle)),
        None,
    );
    assert!(matches!(err, ReadError::ObjectDtype { .. }), "{message}");
    assert!(message.contains("never unpickles"), "{message}");
    let (err, _) = label_error(
        &dir.write("object-labels.npy", &npy_bytes("|O", false, &[1], pickle)),
        None,
    );
    assert!(matches!(err, ReadError::ObjectDtype { .. }), "{err}");

    let mut bytes = npy_bytes("<f4", false, &[1], &[0; 4]);
    let text = "{'descr': [('a', '<f4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }";
    let mut header = text.as_bytes().to_vec();
    header.resize(118, b' ');
    header.push(b'\n');
    bytes.splice(
        8..,
        [
            (header.len() as u16).to_le_bytes().to_vec(),
            header,
            vec![0; 12],
        ]
        .concat(),
    );
    let (err, _) = feature_error(&dir.write("structured-object.npy", &bytes), None);
    assert!(matches!(err, ReadError::ObjectDtype { .. }), "{err}");

    let text = "{'descr': [('a', '<f4'), ('b', '<f8')], 'fortran_order': False, 'shape': (1,), }";
    let mut header = text.as_bytes().to_vec();
    header.resize(118, b' ');
    header.push(b'\n');
    bytes.splice(
        8..,
        [
            (header.len() as u16).to_le_bytes().to_vec(),
            header,
            vec![0; 12],
        ]
        .concat(),
    );
    let (err, message) = feature_error(&dir.write("structured.npy", &bytes), None);
    assert!(matches!(err, ReadError::FeatureDtype { .. }), "{message}");
    assert!(
        message.contains("dtype [('a', '<f4'), ('b', '<f8')]"),
        "{message}"
    );

    let path = dir.write("complex.npy", &npy_bytes("<c16", false, &[1, 1], &[0; 16]));
    let (err, _) = feature_error(&path, None);
    assert!(matches!(err, ReadError::FeatureDtype { .. }), "{err}");
    let (err, message) = label_error(&path, None);
    assert!(
        matches!(err, ReadError::LabelDtype { .. }) && message.contains("<c16"),
        "{message}"
    );
}

#[test]
fn huge_shapes_fail_without_allocating() {
    let dir = Dir::new();
    let huge = [1_000_000_000_000usize, 1_000_000_000_000];
    let bytes = npy_bytes("<f8", false, &huge, &[0; 64]);
    let (err, message) = feature_error(&dir.write("huge.npy", &bytes), None);
    assert!(
        matches!(err, ReadError::Truncated { actual: 64, .. }),
        "{message}"
    );
    assert!(
        message.contains("header promises 8000000000000000000000000 bytes of data, file has 64"),
        "{message}"
    );

    let path = dir.npz(
        "huge.npz",
        &[("x.npy", bytes.clone())],
        CompressionMethod::Deflated,
    );
    let (err, _) = feature_error(&path, None);
    assert!(matches!(err, ReadError::Truncated { .. }), "{err}");

    let bytes = npy_bytes("<i8", false, &[usize::MAX / 2], &[]);
    let (err, _) = label_error(&dir.write("huge-labels.npy", &bytes), None);
    assert!(matches!(err, ReadError::Truncated { .. }), "{err}");

    let bytes = npy_bytes("<f4", false, &[usize::MAX, usize::MAX], &[0; 4]);
    let (err, _) = feature_error(&dir.write("overflow.npy", &bytes), None);
    assert!(matches!(err, ReadError::Truncated { .. }), "{err}");

    // A header length far beyond the file.
    let (err, _) = feature_error(
        &dir.write("long-header.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}"),
        None,
    );
    assert!(matches!(err, ReadError::NpyHeader { .. }), "{err}");
}

#[test]
fn ragged_and_non_numeric_csv() {
    let dir = Dir::new();
    let (err, message) = feature_error(&dir.write("ragged.csv", b"a,b,c\n1,2,3\n4,5\n"), None);
    assert!(
        matches!(
            err,
            ReadError::Ragged {
                line: 3,
                found: 2,
                expected: 3,
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("line 3 has 2 fields"), "{message}");

    let (err, message) = feature_error(&dir.write("cell.csv", b"1,2,3\n4,oops,6\n"), None);
    assert!(
        matches!(
            err,
            ReadError::NonNumeric {
                line: 2,
                column: 2,
                ..
            }
        ),
        "{message}"
    );
    assert!(
        message.contains("line 2, column 2: \"oops\" is not a number"),
        "{message}"
    );

    let (err, message) = feature_error(&dir.write("gap.tsv", b"1\t2\n3\t\n"), None);
    assert!(
        matches!(
            err,
            ReadError::NonNumeric {
                line: 2,
                column: 2,
                ..
            }
        ),
        "{message}"
    );

    let (err, _) = feature_error(&dir.write("ragged.txt", b"1 2 3\n4 5\n"), None);
    assert!(matches!(err, ReadError::Ragged { line: 2, .. }), "{err}");

    let (err, _) = feature_error(&dir.write("blank.csv", b""), None);
    assert!(matches!(err, ReadError::Empty { .. }), "{err}");
}

#[test]
fn uint64_label_above_i64_max() {
    let dir = Dir::new();
    let data: Vec<u8> = [1u64, u64::MAX]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let (err, message) = label_error(
        &dir.write("big.npy", &npy_bytes("<u8", false, &[2], &data)),
        None,
    );
    assert!(
        matches!(
            err,
            ReadError::LabelOutOfRange {
                value: u64::MAX,
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("18446744073709551615"), "{message}");

    let path = dir.safetensors("big.safetensors", &[("y", Dtype::U64, vec![2], data)]);
    let (err, _) = label_error(&path, None);
    assert!(matches!(err, ReadError::LabelOutOfRange { .. }), "{err}");
}

/// A small deterministic generator for the corruption test.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn corrupted_files_never_panic() {
    let dir = Dir::new();
    let npy = npy_bytes("<f4", true, &[7, 3], &f32_le(Order::ColMajor));
    let npz = {
        let path = dir.npz(
            "seed.npz",
            &[("x.npy", npy.clone())],
            CompressionMethod::Deflated,
        );
        fs::read(path).expect("read npz")
    };
    let safetensors = {
        let path = dir.safetensors(
            "seed.safetensors",
            &[("x", Dtype::F16, vec![7, 3], vec![0; 42])],
        );
        fs::read(path).expect("read safetensors")
    };
    let csv = b"a,b\n1,2\n3,4\n".to_vec();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for (ext, seed) in [
        ("npy", &npy),
        ("npz", &npz),
        ("safetensors", &safetensors),
        ("csv", &csv),
    ] {
        // Every prefix.
        for len in 0..seed.len() {
            let path = dir.write(&format!("prefix.{ext}"), &seed[..len]);
            let _ = FeatureFile::open(&path, None);
            let _ = LabelFile::open(&path, None);
        }
        // Random byte flips.
        for _ in 0..300 {
            let mut bytes = seed.clone();
            for _ in 0..1 + rng.next() % 4 {
                let idx = (rng.next() % bytes.len() as u64) as usize;
                bytes[idx] = rng.next() as u8;
            }
            let path = dir.write(&format!("flipped.{ext}"), &bytes);
            if let Ok(features) = FeatureFile::open(&path, None) {
                let matrix = features.matrix();
                assert_eq!(matrix.n_samples(), features.n_samples());
            }
            let _ = LabelFile::open(&path, None);
        }
    }
}
