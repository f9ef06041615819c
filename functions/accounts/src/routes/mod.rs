pub mod create;
pub mod tokens;
