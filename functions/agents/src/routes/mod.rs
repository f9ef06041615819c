pub mod delete;
pub mod get;
pub mod list;
pub mod put;
pub mod status;
pub mod sync;
