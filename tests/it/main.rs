//! Black-box integration tests: the real server on a free port, driven over HTTP.
//! One test binary (one link step); one module per area.

mod html;
mod lwa_support;
mod scenario_support;
mod support;

mod admin;
mod bad_input;
mod lwa_authorize;
mod lwa_device;
mod lwa_profile;
mod lwa_token;
mod lwa_verify_page;
mod oauth2_client;
mod scenario_check;
mod scenario_run;
mod scenario_wrong_server;
mod smoke;
mod startup;
