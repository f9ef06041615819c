pub mod find;
pub mod get;
pub mod get_visibility;
pub mod put;
pub mod put_visibility;
