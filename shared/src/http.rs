//! The HTTP edge of the components.
//!
//! - [`route_table`]: a component's routes as data (405 and 404 from it).
//! - `spin_http`: serving a request with the route table and a handler
//!   context, and turning domain results into spin-sdk responses.

pub mod route_table;
#[cfg(feature = "spin")]
pub mod spin_http;
