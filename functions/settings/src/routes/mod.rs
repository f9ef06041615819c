pub mod get_routing;
pub mod put_routing;
