//! Black-box integration tests: the real server on a free port, driven over HTTP.
//! One test binary (one link step); one module per area.

mod fuzz_gen;
mod html;
mod lwa_support;
mod music_support;
#[path = "../../src/store/redis_testkit.rs"]
mod redis_testkit;
mod scenario_stream_support;
mod scenario_support;
mod support;
#[path = "../../src/stream/testkit.rs"]
mod testkit;

#[path = "../../examples/refclient/client.rs"]
mod refclient;

mod admin;
mod admin_guard;
mod bad_input;
mod catalog_fixtures;
mod client_conformance;
mod client_plans;
mod connections;
mod fuzz;
mod lwa_authorize;
mod lwa_device;
mod lwa_profile;
mod lwa_token;
mod lwa_verify_page;
mod music_auth;
mod music_catalog;
mod music_contract;
mod music_device;
mod music_faults;
mod music_library;
mod music_playback;
mod music_playlists;
mod music_search;
mod music_v2;
mod music_v2_playback;
mod music_views;
mod oauth2_client;
mod readme;
mod replicas;
mod scenario_check;
mod scenario_run;
mod scenario_stream;
mod scenario_wrong_server;
mod secrets;
mod smoke;
mod startup;
mod state;
mod stream_http;
mod tls;
mod verdicts;
