//! Real (small) neural networks: the toy datasets, a multilayer perceptron with its exact
//! gradient, full-batch training of many networks in lockstep, and slices of a trained
//! network's loss as 2D surfaces. Plain Rust over the lane types, as the surfaces are.

pub mod data;
pub mod fit;
pub mod live;
pub mod mlp;
pub mod paths;
pub mod slice;

pub use data::{DATASETS, DataSpec, Dataset, Labels, Points};
pub use fit::{FitOptions, FitRun, Fitting, fit_group};
pub use live::{
    DEFAULT_UPDATES_PER_FRAME, LiveFit, LiveState, MAX_NET_RUNS, MAX_UPDATES_PER_FRAME,
};
pub use mlp::{Activation, Init, LossKind, Mlp};
