pub mod create;
pub mod delete;
pub mod get;
pub mod list;
pub mod rotate;
pub mod update;
