//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Rank pre-trained models by LogME and its peers, from features exported with PyTorch or NumPy.
#[derive(Debug, Parser)]
#[command(name = "logme", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score one feature file against labels.
    Score(ScoreArgs),
    /// Rank candidate models: DATASET_DIR or --labels y.npy NAME=FEATURES ...
    Rank(RankArgs),
    /// Fit on features and labels, then predict on test features.
    Predict(PredictArgs),
    /// Save the sufficient statistics (FᵀF, FᵀY, ‖y‖², N) of one shard of rows to a folder.
    Stats(StatsArgs),
    /// Score the merged statistics of shards saved by `logme stats`.
    Merge(MergeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    Classification,
    Multilabel,
    Regression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    FixedPoint,
    Icml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Reference,
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LabelPolicyArg {
    /// C = max + 1; absent class ids count as all-zero targets (the official behaviour).
    Reference,
    /// Refuse labels that are not exactly 0..C-1.
    Reject,
    /// Map the labels that occur onto 0..C-1.
    Remap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Options shared by every command that fits LogME.
#[derive(Debug, Args, Clone)]
pub struct FitArgs {
    /// What the labels describe.
    #[arg(long, value_enum, default_value_t = TaskArg::Classification)]
    pub task: TaskArg,
    /// LogME variant: the JMLR fixed point (official default) or the ICML algorithm.
    #[arg(long, value_enum, default_value_t = MethodArg::FixedPoint)]
    pub method: MethodArg,
    /// `reference` reproduces the official code; `exact` computes the true maximum evidence.
    #[arg(long, value_enum, default_value_t = ModeArg::Reference)]
    pub mode: ModeArg,
    /// Linear-algebra backend: faer (default), nalgebra or lapack, as compiled into this build
    /// (cargo features `nalgebra`, `lapack`).
    #[arg(long, default_value_t = logme::Backend::available()[0].to_string())]
    pub backend: String,
    /// Threads for the products and decompositions (0 = all cores; at most 1024). On a machine
    /// shared with other jobs, 1 is often faster.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub threads: u16,
    /// How to treat class labels that are not exactly 0..C-1.
    #[arg(long, value_enum, default_value_t = LabelPolicyArg::Reference)]
    pub label_policy: LabelPolicyArg,
    /// Array name inside .npz or .safetensors label files.
    #[arg(long)]
    pub labels_key: Option<String>,
    /// Array name inside .npz or .safetensors feature files (the same name for every file).
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Feature file [N, D]: .npy, .npz, .safetensors, .csv, .tsv or .txt.
    #[arg(long)]
    pub features: PathBuf,
    /// Label file: [N] class ids, or [N, T] targets for multilabel and regression.
    #[arg(long)]
    pub labels: PathBuf,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RankArgs {
    /// DATASET_DIR (with labels.npy or .csv/.txt, features/<model>.<ext> and optionally
    /// transfer.csv: model,accuracy), or candidates as NAME=FEATURES_FILE with --labels.
    #[arg(value_name = "DATASET_DIR | NAME=FILE")]
    pub inputs: Vec<String>,
    /// Label file, when candidates are given as NAME=FEATURES_FILE.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Measured transfer accuracies (model,accuracy); defaults to DATASET_DIR/transfer.csv.
    #[arg(long)]
    pub transfer: Option<PathBuf>,
    /// Metrics to compute, comma-separated (`all` for every one); the first sorts the table.
    #[arg(long, default_value = "logme", value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// PARC: reduce features to this many principal components first.
    #[arg(long)]
    pub parc_dims: Option<usize>,
    /// Source-model files in DATASET_DIR/source_probs hold logits (softmaxed row by row).
    #[arg(long)]
    pub source_logits: bool,
    /// Print every note the metrics return (mixture sizes, shrinkage values, ...).
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Training feature file [N, D].
    #[arg(long)]
    pub features: PathBuf,
    /// Training labels.
    #[arg(long)]
    pub labels: PathBuf,
    /// Test feature file [M, D].
    #[arg(long)]
    pub test: PathBuf,
    /// Write predictions to this .npy file (int64 classes, or float64 [M, T]) instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub fit: FitArgs,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Feature file of this shard [N_shard, D].
    #[arg(long)]
    pub features: PathBuf,
    /// Labels of this shard.
    #[arg(long)]
    pub labels: PathBuf,
    /// Folder to write gram.npy, cross.npy, target_sq_norms.npy and meta.json into.
    #[arg(long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub fit: FitArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Folders written by `logme stats`, one per shard of the same dataset.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
