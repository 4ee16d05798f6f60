//! Rank correlations between transferability scores and measured transfer accuracies.
