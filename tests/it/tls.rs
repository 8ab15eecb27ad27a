//! `serve --tls` as a process (issue #13): the `listening on https://…` line and the CA line after it,
//! clients that trust only that CA (reqwest by the names of the real hosts, Python's standard library, curl
//! over HTTP/2), clients that do not, links that follow the scheme, one's own certificate, and the one-line
//! exit 2 for unusable files. And the in-process `MockAmazon` over TLS.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use amazon_music_mock::TlsSource;
use amazon_music_mock::{MockAmazon, ServerConfig};
use serde_json::{Value, json};

use crate::startup::{signal, wait_with_limit};
use crate::support::{DEVICE_CLIENT, MUSIC_PROFILE, TempDir, USER_UNLIMITED};

const BIN: &str = env!("CARGO_BIN_EXE_amazon-music-mock");
const SCOPE: &str = "music::profile:read amazon_music:access";

/// `amazon-music-mock serve --bind 127.0.0.1:0 ARGS…` with `ENVS` and no other `AMM_*` variable.
fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--bind", "127.0.0.1:0"]).args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AMM_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(envs.iter().copied());
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts")
}

/// A `serve` process and its stdout, line by line.
struct Served {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    port: u16,
}

impl Served {
    /// Starts `serve ARGS…` and reads the `listening on https://127.0.0.1:PORT` line.
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut child = spawn(args, envs);
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut s = Served { child: Some(child), lines, port: 0 };
        let first = s.next_line().expect("a `listening on` line");
        let port = first
            .strip_prefix("listening on https://127.0.0.1:")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .parse::<u16>()
            .unwrap_or_else(|_| panic!("port in {first:?}"));
        assert_ne!(port, 0, "{first:?}");
        s.port = port;
        s
    }

    /// The next stdout line, or `None` once stdout is closed.
    fn next_line(&self) -> Option<String> {
        match self.lines.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => Some(l),
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("no stdout line within 30 s"),
        }
    }

    /// Reads the `ca certificate: PATH` line; answers the path and the PEM in it.
    fn ca(&self) -> (PathBuf, Vec<u8>) {
        let line = self.next_line().expect("a `ca certificate:` line");
        let path =
            PathBuf::from(line.strip_prefix("ca certificate: ").unwrap_or_else(|| panic!("second line: {line:?}")));
        let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----\n"), "{}", String::from_utf8_lossy(&pem));
        (path, pem)
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// SIGTERM; the exit status, stderr and the stdout lines not read yet.
    fn stop(mut self) -> (ExitStatus, String, Vec<String>) {
        let child = self.child.take().expect("running");
        signal(&child, "-TERM");
        let (status, stderr) = wait_with_limit(child, Duration::from_secs(10));
        let rest = std::iter::from_fn(|| self.next_line()).collect();
        (status, stderr, rest)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-KILL", &c.id().to_string()]).status();
            let _ = c.wait();
            // A killed server cannot remove its default CA file as a clean shutdown does.
            let _ = std::fs::remove_file(std::env::temp_dir().join(format!("amazon-music-mock-ca-{}.pem", self.port)));
        }
    }
}

/// A client that trusts only `ca` (no built-in roots) and reaches `names` at `addr`.
fn client(ca: Option<&[u8]>, names: &[&str], addr: SocketAddr) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    if let Some(pem) = ca {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(pem).expect("a PEM certificate"));
    }
    for n in names {
        b = b.resolve(n, addr);
    }
    b.build().expect("client")
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect()
}

async fn read(r: reqwest::RequestBuilder) -> (u16, String, Value) {
    let r = r.send().await.expect("the request is answered");
    let status = r.status().as_u16();
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = r.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, ctype, v)
}

/// Code pair → approve → poll over `base`; the access token.
async fn device_flow(http: &reqwest::Client, base: &str) -> String {
    let form = [("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", SCOPE)];
    let (status, _, pair) = read(http.post(format!("{base}/auth/O2/create/codepair")).form(&form)).await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(keys(&pair), ["user_code", "device_code", "interval", "verification_uri", "expires_in"]);
    assert_eq!(pair["verification_uri"], "https://amazon.com/us/code");
    let user_code = pair["user_code"].as_str().expect("user_code");
    let device_code = pair["device_code"].as_str().expect("device_code");
    let (status, _, approved) =
        read(http.post(format!("{base}/__admin/device/approve")).json(&json!({"user_code": user_code}))).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(
        approved,
        json!({"user_code": user_code, "status": "approved", "user_id": USER_UNLIMITED, "client_id": DEVICE_CLIENT})
    );
    let poll = [("grant_type", "device_code"), ("device_code", device_code), ("user_code", user_code)];
    let (status, _, tokens) = read(http.post(format!("{base}/auth/o2/token")).form(&poll)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(keys(&tokens), ["access_token", "refresh_token", "token_type", "expires_in"]);
    assert_eq!((&tokens["token_type"], &tokens["expires_in"]), (&json!("bearer"), &json!(3600)));
    let access = tokens["access_token"].as_str().expect("access_token");
    assert!(access.starts_with("Atza|"), "{access}");
    access.to_owned()
}

/// `GET /v1/me` as the Music API's client; checks the answer's shape and answers it.
async fn me(http: &reqwest::Client, base: &str, token: &str) -> Value {
    let (status, ctype, v) =
        read(http.get(format!("{base}/v1/me")).bearer_auth(token).header("x-api-key", MUSIC_PROFILE)).await;
    assert_eq!(status, 200, "{v}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    assert_me(&v);
    v
}

fn assert_me(v: &Value) {
    assert_eq!(keys(v), ["data"], "{v}");
    assert_eq!(keys(&v["data"]), ["user"], "{v}");
    let user = &v["data"]["user"];
    assert_eq!(keys(user), ["id", "name", "images", "url", "subscriptionTier"], "{v}");
    assert_eq!((&user["name"], &user["subscriptionTier"]), (&json!("Ava Unlimited"), &json!("UNLIMITED")), "{v}");
    let url = user["url"].as_str().expect("url");
    assert!(url.starts_with("https://music.amazon.com/profiles/"), "{url}");
}

/// The text of an error and its sources.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(" / ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[tokio::test]
async fn a_client_trusting_only_the_printed_ca_completes_the_device_flow_as_api_amazon_com() {
    let s = Served::start(&["--tls"], &[]);
    let (ca_path, ca) = s.ca();
    assert_eq!(ca_path, std::env::temp_dir().join(format!("amazon-music-mock-ca-{}.pem", s.port)));
    let http = client(Some(&ca), &["api.amazon.com"], s.addr());
    let base = format!("https://api.amazon.com:{}", s.port);
    let token = device_flow(&http, &base).await;
    me(&http, &base, &token).await;

    // A clean shutdown exits 0, prints nothing more, and removes the CA file it wrote by default.
    let (status, stderr, rest) = s.stop();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(rest, Vec::<String>::new());
    assert!(!ca_path.exists(), "{} is left behind", ca_path.display());
}

#[tokio::test]
async fn the_device_api_root_on_music_api_amazon_com_links_over_https() {
    let s = Served::start(&["--tls"], &[]);
    let (_, ca) = s.ca();
    let http = client(Some(&ca), &["api.amazon.com", "music-api.amazon.com"], s.addr());
    let token = device_flow(&http, &format!("https://api.amazon.com:{}", s.port)).await;
    let origin = format!("https://music-api.amazon.com:{}", s.port);
    let (status, ctype, d) = read(http.get(format!("{origin}/")).bearer_auth(&token)).await;
    assert_eq!((status, ctype.as_str()), (200, "application/json"), "{d}");
    assert_eq!(keys(&d), ["result", "navigationNodeSummaries", "itemDescriptions", "navigationNodeDescriptions"]);
    assert_eq!(d["result"], "#root");
    let remote: Vec<&str> = d["navigationNodeSummaries"]
        .as_object()
        .expect("summaries")
        .values()
        .filter_map(|v| v["description"].as_str())
        .filter(|r| !r.starts_with('#'))
        .collect();
    assert!(!remote.is_empty(), "no remote reference in {d}");
    for r in &remote {
        assert!(r.starts_with(&format!("{origin}/")), "{r} is not under {origin}/");
    }
    let pop = format!("{origin}/nav/genre/pop");
    assert!(remote.contains(&pop.as_str()), "{remote:?}");
    // And a reference is followed over the same connection kind.
    let (status, _, g) = read(http.get(&pop).bearer_auth(&token)).await;
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["result"], "#genre");
}

#[tokio::test]
async fn stream_urls_minted_over_https_start_with_https() {
    let s = Served::start(&["--tls"], &[]);
    let (_, ca) = s.ca();
    let http = client(Some(&ca), &["api.amazon.com"], s.addr());
    let origin = format!("https://api.amazon.com:{}", s.port);
    let body = json!({"asin": "B076YT2CBT", "qualities": ["SD"]});
    let (status, _, v) = read(http.post(format!("{origin}/__admin/streams/sign")).json(&body)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(keys(&v), ["dash", "progressive", "exp"]);
    assert_eq!(keys(&v["progressive"]), ["SD"]);
    let dash = v["dash"].as_str().expect("dash");
    assert!(dash.starts_with(&format!("{origin}/dash/B076YT2CBT/manifest.mpd?q=SD&exp=")), "{dash}");
    let sd = v["progressive"]["SD"].as_str().expect("SD");
    assert!(sd.starts_with(&format!("{origin}/stream/B076YT2CBT/sd.mp3?exp=")), "{sd}");
    assert!(v["exp"].is_i64(), "{v}");
}

#[tokio::test]
async fn clients_without_the_ca_or_under_another_name_are_refused_with_a_certificate_error() {
    let s = Served::start(&["--tls"], &[]);
    let (_, ca) = s.ca();
    let url = format!("https://api.amazon.com:{}/__admin/health", s.port);
    // No CA at all.
    let e = client(None, &["api.amazon.com"], s.addr()).get(&url).send().await.expect_err("refused");
    assert!(e.is_connect(), "{e:?}");
    let text = chain(&e);
    assert!(text.contains("invalid peer certificate: UnknownIssuer"), "{text}");
    // The Web PKI's roots do not vouch for it either.
    let public = reqwest::Client::builder().resolve("api.amazon.com", s.addr()).build().expect("client");
    let text = chain(&public.get(&url).send().await.expect_err("refused"));
    assert!(text.contains("invalid peer certificate: UnknownIssuer"), "{text}");
    // The CA, but a name the certificate is not for.
    let other = client(Some(&ca), &["example.com"], s.addr());
    let url_other = format!("https://example.com:{}/__admin/health", s.port);
    let text = chain(&other.get(&url_other).send().await.expect_err("refused"));
    assert!(text.contains(r#"invalid peer certificate: certificate not valid for name "example.com""#), "{text}");
    // The refused handshakes cost the server nothing.
    let (status, _, v) = read(client(Some(&ca), &["api.amazon.com"], s.addr()).get(&url)).await;
    assert_eq!((status, v), (200, json!({"status": "ok", "session": "default"})));
}

const PYTHON_CLIENT: &str = r#"
import json, ssl, sys, urllib.parse, urllib.request

base, cafile = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)

def call(method, path, form=None, body=None, headers=None, context=ctx):
    h = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, headers=h, method=method)
    with urllib.request.urlopen(req, context=context) as r:
        return r.status, json.load(r)

out = {}
s, pair = call("POST", "/auth/O2/create/codepair", form={
    "response_type": "device_code", "client_id": sys.argv[3], "scope": sys.argv[4]})
out["codepair"] = s
s, approved = call("POST", "/__admin/device/approve", body={"user_code": pair["user_code"]})
out["approve"] = [s, approved["status"]]
s, tokens = call("POST", "/auth/o2/token", form={
    "grant_type": "device_code", "device_code": pair["device_code"], "user_code": pair["user_code"]})
out["token"] = [s, tokens["token_type"], tokens["access_token"][:5]]
s, me = call("GET", "/v1/me", headers={
    "Authorization": "Bearer " + tokens["access_token"], "x-api-key": sys.argv[5]})
out["me"] = [s, me]
try:
    call("GET", "/__admin/health", context=ssl.create_default_context())
    out["untrusted"] = "answered"
except urllib.error.URLError as e:
    out["untrusted"] = type(e.reason).__name__ + ": " + e.reason.reason
print(json.dumps(out))
"#;

#[test]
fn python_with_only_the_standard_library_and_the_ca_file_completes_the_device_flow() {
    if crate::testkit::skip_without("python3", "apt-get install -y python3") {
        return;
    }
    let s = Served::start(&["--tls"], &[]);
    let (ca_path, _) = s.ca();
    let base = format!("https://localhost:{}", s.port);
    let out = Command::new("python3")
        .args(["-c", PYTHON_CLIENT, &base, ca_path.to_str().unwrap(), DEVICE_CLIENT, SCOPE, MUSIC_PROFILE])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(keys(&v), ["codepair", "approve", "token", "me", "untrusted"]);
    assert_eq!(v["codepair"], 200);
    assert_eq!(v["approve"], json!([200, "approved"]));
    assert_eq!(v["token"], json!([200, "bearer", "Atza|"]));
    assert_eq!(v["me"][0], 200);
    assert_me(&v["me"][1]);
    assert_eq!(v["untrusted"], "SSLCertVerificationError: CERTIFICATE_VERIFY_FAILED");
}

#[test]
fn curl_speaks_http2_and_links_take_the_authority_and_the_scheme() {
    if crate::testkit::skip_without("curl", "apt-get install -y curl") {
        return;
    }
    let s = Served::start(&["--tls"], &[]);
    let (ca_path, _) = s.ca();
    let origin = format!("https://api.amazon.com:{}", s.port);
    let out = Command::new("curl")
        .args(["-sS", "--http2", "--cacert", ca_path.to_str().unwrap()])
        .args(["--resolve", &format!("api.amazon.com:{}:127.0.0.1", s.port)])
        .args(["-H", "content-type: application/json", "-d", r#"{"asin":"B076YT2CBT","qualities":["SD"]}"#])
        .args(["-w", "\n%{http_version} %{http_code}", &format!("{origin}/__admin/streams/sign")])
        .output()
        .expect("curl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let (body, tail) = stdout.rsplit_once('\n').expect("two lines");
    // HTTP/2 (ALPN h2) carries no Host header: the URLs take the :authority instead.
    assert_eq!(tail, "2 200");
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let dash = v["dash"].as_str().expect("dash");
    assert!(dash.starts_with(&format!("{origin}/dash/B076YT2CBT/manifest.mpd?")), "{dash}");
}

#[tokio::test]
async fn amm_tls_and_tls_ca_out_write_the_ca_where_asked_and_leave_it() {
    let dir = TempDir::new("tls-ca-out");
    let want = dir.0.join("mock-ca.pem");
    let s = Served::start(&[], &[("AMM_TLS", "1"), ("AMM_TLS_CA_OUT", want.to_str().unwrap())]);
    let (path, ca) = s.ca();
    assert_eq!(path, want);
    let http = client(Some(&ca), &["localhost"], s.addr());
    let (status, _, v) = read(http.get(format!("https://localhost:{}/__admin/health", s.port))).await;
    assert_eq!((status, v), (200, json!({"status": "ok", "session": "default"})));
    let (status, stderr, _) = s.stop();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(want.exists(), "a CA file named with --tls-ca-out stays");
}

/// A CA and a certificate for `localhost` signed by it, as PEM files in `dir`; answers (CA PEM, cert, key).
fn own_certificate(dir: &Path) -> (String, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (ca_cert.pem(), cert_path, key_path)
}

#[tokio::test]
async fn tls_cert_and_tls_key_serve_ones_own_certificate_and_write_no_ca() {
    let dir = TempDir::new("tls-own");
    let (ca, cert, key) = own_certificate(&dir.0);
    let s = Served::start(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()], &[]);
    let http = client(Some(ca.as_bytes()), &["localhost"], s.addr());
    let (status, _, v) = read(http.get(format!("https://localhost:{}/__admin/health", s.port))).await;
    assert_eq!((status, v), (200, json!({"status": "ok", "session": "default"})));
    let port = s.port;
    let (status, stderr, rest) = s.stop();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(rest, Vec::<String>::new(), "no CA line");
    assert!(!std::env::temp_dir().join(format!("amazon-music-mock-ca-{port}.pem")).exists());
}

/// `serve ARGS…` must exit 2 with exactly `error: LINE` on stderr and nothing on stdout.
fn assert_exits_2(args: &[&str], line: &str) {
    let mut child = spawn(args, &[]);
    let mut stdout = child.stdout.take().expect("stdout piped");
    let (status, stderr) = wait_with_limit(child, Duration::from_secs(30));
    let mut out = String::new();
    let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
    assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr, format!("error: {line}\n"), "{args:?}");
    assert_eq!(out, "", "{args:?}");
}

#[test]
fn unusable_certificate_files_exit_2_with_one_line_naming_the_flag() {
    let dir = TempDir::new("tls-bad");
    let (_, cert, key) = own_certificate(&dir.0);
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    assert_exits_2(
        &["--tls-cert", "/nonexistent/amm-cert.pem", "--tls-key", key],
        "--tls-cert /nonexistent/amm-cert.pem: cannot read: No such file or directory (os error 2)",
    );
    assert_exits_2(
        &["--tls-cert", cert, "--tls-key", "/nonexistent/amm-key.pem"],
        "--tls-key /nonexistent/amm-key.pem: cannot read: No such file or directory (os error 2)",
    );
    let junk = dir.0.join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let junk = junk.to_str().unwrap();
    assert_exits_2(
        &["--tls-cert", junk, "--tls-key", key],
        &format!("--tls-cert {junk}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file"),
    );
    assert_exits_2(
        &["--tls-cert", cert, "--tls-key", junk],
        &format!("--tls-key {junk}: no PEM private key (-----BEGIN PRIVATE KEY-----) in the file"),
    );
    // A key, but another certificate's.
    let other = TempDir::new("tls-bad-other");
    let (_, _, other_key) = own_certificate(&other.0);
    let other_key = other_key.to_str().unwrap();
    assert_exits_2(
        &["--tls-cert", cert, "--tls-key", other_key],
        &format!("--tls-key {other_key}: is not the key of the certificate in --tls-cert {cert}"),
    );
    assert_exits_2(
        &["--tls", "--tls-ca-out", "/nonexistent/amm/ca.pem"],
        "--tls-ca-out /nonexistent/amm/ca.pem: cannot write the CA certificate: No such file or directory (os error 2)",
    );
}

#[tokio::test]
async fn mock_amazon_starts_over_tls_from_its_config() {
    let mock = MockAmazon::start_with(ServerConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: Some(1),
        tls: Some(TlsSource::Generate),
        ..ServerConfig::default()
    })
    .await;
    assert_eq!(mock.uri(), format!("https://127.0.0.1:{}", mock.addr().port()));
    let ca = mock.ca_pem().expect("a generated CA");
    let http = client(Some(ca.as_bytes()), &["music-api.amazon.com"], mock.addr());
    let (status, _, v) = read(http.get(format!("{}/__admin/health", mock.uri()))).await;
    assert_eq!((status, v), (200, json!({"status": "ok", "session": "default"})));
    let url = format!("https://music-api.amazon.com:{}/__admin/streams/sign", mock.addr().port());
    let (status, _, v) = read(http.post(url).json(&json!({"asin": "B076YT2CBT", "qualities": ["SD"]}))).await;
    assert_eq!(status, 200, "{v}");
    let sd = v["progressive"]["SD"].as_str().expect("SD");
    assert!(sd.starts_with(&format!("https://music-api.amazon.com:{}/stream/", mock.addr().port())), "{sd}");
}
