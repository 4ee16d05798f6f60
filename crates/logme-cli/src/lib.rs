//! Library part of the logme command-line tool: file readers and writers.

pub mod read;
