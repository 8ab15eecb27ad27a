//! Black-box integration tests: the real server on a free port, driven over HTTP.
//! One test binary (one link step); one module per area.

mod html;
mod support;

mod lwa_authorize;
mod lwa_verify_page;
mod smoke;
