pub mod find;
pub mod get;
pub mod put;
pub mod visibility;
