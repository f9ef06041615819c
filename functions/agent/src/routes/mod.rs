pub mod api;
pub mod assets;
pub mod join;
pub mod logout;
pub mod page;
