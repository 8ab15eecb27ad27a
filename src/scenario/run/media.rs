//! The stream expectations of a step (`audio`, `dash`, `range`): the requests they add and the decoding
//! they need, around the pure checks of `expect::{audio, dash, range}`.
//!
//! Decoding runs on tokio's blocking pool (`spawn_blocking`), never on a runtime worker: a long 96 kHz
//! FLAC takes seconds of CPU. DASH segments are fetched four at a time, in order, with plain GETs (the
//! client does not follow redirects, so each must answer 200 itself).

use futures_util::StreamExt;
use serde_json::Value;
use url::Url;

use super::{Failure, ScenarioRun};
use crate::scenario::expect::audio::{self, AudioFacts, AudioTargets};
use crate::scenario::expect::{self, Mismatch, Response, Verdict, dash, range};
use crate::scenario::model::{
    DEFAULT_DURATION_TOLERANCE_S, DashExpect, DashFetch, Expect, RangeCase, RepresentationSelector, Request, Status,
    Text,
};

/// DASH segment requests in flight at once for one `fetch`.
const SEGMENT_FETCHES: usize = 4;
/// Failing segments listed one by one before the rest are counted.
const LISTED_SEGMENT_FAILURES: usize = 5;

impl ScenarioRun<'_> {
    /// Adds the mismatches of `audio`, `dash` and `range` to `v`. `request` is the step's request (for
    /// `range`, which sends it again).
    ///
    /// # Errors
    /// A [`Failure`] when the expectation cannot be evaluated (a variable that is no number, a request
    /// that cannot be sent).
    pub(super) async fn media_checks(
        &self,
        e: &Expect,
        request: Option<&Request>,
        resp: &Response,
        v: &mut Verdict,
    ) -> Result<(), Failure> {
        if let Some(a) = &e.audio {
            let targets = audio::resolve(a, &self.vars)?;
            let hint = audio::hint_for(resp.header("content-type").as_deref(), &resp.url);
            let found = decode(resp.raw.clone(), hint, &targets).await;
            compare_audio(&targets, found, "audio", v);
        }
        if let Some(d) = &e.dash {
            self.dash(d, resp, v).await?;
        }
        if let Some(cases) = &e.range {
            let Some(req) = request else { return Err(Failure::error("`expect.range` needs a `request` step")) };
            self.range(&cases.0, req, resp, v).await?;
        }
        Ok(())
    }

    async fn dash(&self, d: &DashExpect, resp: &Response, v: &mut Verdict) -> Result<(), Failure> {
        let mpd = match dash::parse(&resp.body) {
            Ok(m) => m,
            Err(why) => {
                v.mismatches.push(mismatch("dash (parse)", "an MPD that dash-mpd parses", why));
                return Ok(());
            }
        };
        if let Some(want) = &d.duration {
            let s = expect::number(&want.seconds, &self.vars, "dash duration seconds")?;
            let tol = match &want.tolerance {
                Some(t) => expect::number(t, &self.vars, "dash duration tolerance")?,
                None => DEFAULT_DURATION_TOLERANCE_S,
            };
            let got = dash::duration(&mpd).map(|d| d.as_secs_f64());
            if !got.is_some_and(|g| (g - s).abs() <= tol) {
                let got = got.map_or_else(|| "(absent)".to_owned(), |g| format!("{g:.3} s"));
                let want = format!("{} s ± {}", expect::number_text(s), expect::number_text(tol));
                v.mismatches.push(mismatch("dash duration", want, got));
            }
        }
        let views = dash::representations(&mpd);
        let actual: Vec<Value> = views.iter().map(|(_, j)| j.clone()).collect();
        for (check, list, exact) in [
            ("dash representations", &d.representations, true),
            ("dash representations_include", &d.representations_include, false),
        ] {
            if let Some(list) = list {
                if let Some(diff) = dash::check_set(check, list, &actual, exact, &self.vars, &mut v.mismatches)? {
                    add_diff(v, diff);
                }
            }
        }
        for f in &d.fetch.0 {
            self.dash_fetch(f, &mpd, &views, resp, v).await?;
        }
        Ok(())
    }

    async fn dash_fetch(
        &self,
        f: &DashFetch,
        mpd: &dash_mpd::MPD,
        views: &[(dash::RepAt, Value)],
        resp: &Response,
        v: &mut Verdict,
    ) -> Result<(), Failure> {
        let Some(k) = dash::select(&f.representation, views, &self.vars)? else {
            let which = match &f.representation {
                RepresentationSelector::Id(id) => format!("id {:?}", self.vars.text(id)?),
                RepresentationSelector::Index(i) => format!("index {i}"),
                RepresentationSelector::Match(_) => "one matching the checks given".to_owned(),
            };
            let have: Vec<String> = views.iter().enumerate().map(|(i, (_, j))| dash::label(j, i)).collect();
            let have = if have.is_empty() { "none".to_owned() } else { have.join(", ") };
            v.mismatches.push(mismatch(
                "dash fetch",
                format!("a representation with {which}"),
                format!("representations {have}"),
            ));
            return Ok(());
        };
        let check = format!("dash fetch {}", dash::label(&views[k].1, k));
        let manifest =
            Url::parse(&resp.url).map_err(|e| Failure::error(format!("the manifest URL {:?}: {e}", resp.url)))?;
        let plan = match dash::plan(mpd, views[k].0, &manifest, f.append_manifest_query) {
            Ok(p) => p,
            Err(why) => {
                v.mismatches.push(mismatch(format!("{check} (segments)"), "segment URLs from the MPD", why));
                return Ok(());
            }
        };
        let urls: Vec<(String, Url)> = plan
            .init
            .into_iter()
            .map(|u| ("init segment".to_owned(), u))
            .chain(plan.media.into_iter().enumerate().map(|(i, u)| (format!("segment {}", i + 1), u)))
            .collect();
        let count = urls.len();
        let answers: Vec<(String, Url, Result<Response, String>)> = futures_util::stream::iter(urls)
            .map(|(name, u)| async move {
                let answer = self.execute(self.ctx.http.get(u.as_str())).await;
                (name, u, answer)
            })
            .buffered(SEGMENT_FETCHES)
            .collect()
            .await;
        let mut whole = Vec::new();
        let mut failed = Vec::new();
        // The usual reason a signed service refuses segments: their URLs lost the manifest's query.
        let hint = if manifest.query().is_some_and(|q| !q.is_empty()) && !f.append_manifest_query {
            "; it has no query, the manifest's had one (`append_manifest_query: true` adds it)"
        } else {
            ""
        };
        for (name, u, answer) in answers {
            let hint = if u.query().is_none() { hint } else { "" };
            match answer {
                Ok(a) if a.status == 200 => whole.extend_from_slice(&a.raw),
                Ok(a) => failed.push((name, format!("{} from GET {u}{hint}", a.status))),
                Err(e) => failed.push((name, format!("{e} (GET {u}){hint}"))),
            }
        }
        if !failed.is_empty() {
            let n = failed.len();
            for (name, why) in failed.into_iter().take(LISTED_SEGMENT_FAILURES) {
                v.mismatches.push(mismatch(format!("{check}: {name}"), "200", why));
            }
            if n > LISTED_SEGMENT_FAILURES {
                v.mismatches.push(mismatch(
                    format!("{check}: segments"),
                    format!("all {count} answer 200"),
                    format!("{} more failed", n - LISTED_SEGMENT_FAILURES),
                ));
            }
            return Ok(());
        }
        if f.decode {
            let targets = match &f.audio {
                Some(a) => audio::resolve(a, &self.vars)?,
                None => AudioTargets::default(),
            };
            let mime = views[k].1.get("mime_type").and_then(Value::as_str);
            let hint = audio::hint_for(mime, "").or(Some("mp4"));
            let found = decode(whole.into(), hint, &targets).await;
            compare_audio(&targets, found, &format!("{check}: audio"), v);
        }
        Ok(())
    }

    async fn range(&self, cases: &[RangeCase], req: &Request, resp: &Response, v: &mut Verdict) -> Result<(), Failure> {
        let own = match req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("range")) {
            Some((_, t)) => Some(self.vars.text(&t.0)?),
            None => None,
        };
        // The whole representation: the step's answer when the step sent no Range, else the request again
        // without it.
        let fetched;
        let full = if own.is_none() {
            resp
        } else {
            fetched = self.send(&with_range(req, None)).await?.0;
            &fetched
        };
        if full.status != 200 {
            v.mismatches.push(mismatch(
                "range (whole)",
                "200 to the request without Range",
                format!("{} {}", full.status, full.body_for_report(200)),
            ));
            return Ok(());
        }
        let len = full.raw.len() as u64;
        for case in cases {
            let header = match (&case.header, &own) {
                (Some(h), _) => self.vars.text(h)?,
                (None, Some(h)) => h.clone(),
                (None, None) => {
                    return Err(Failure::error("`expect.range`: a case without `header` and no Range request header"));
                }
            };
            let sent;
            let answer = if own.as_deref() == Some(header.as_str()) {
                resp
            } else {
                sent = self.send(&with_range(req, Some(&header))).await?.0;
                &sent
            };
            let accepted = match &case.status {
                Some(Status::One(s)) => vec![*s],
                Some(Status::Any(list)) => list.clone(),
                None => vec![range::status_of(&range::evaluate(&header, len))],
            };
            let (found, diff) =
                range::check_answer(&format!("range {header}"), &header, &accepted, &full.raw, answer).await;
            v.mismatches.extend(found);
            if let Some(d) = diff {
                add_diff(v, d);
            }
        }
        Ok(())
    }
}

/// Decodes on the blocking pool.
async fn decode(bytes: bytes::Bytes, hint: Option<&'static str>, targets: &AudioTargets) -> Result<AudioFacts, String> {
    let frequency = targets.frequency.is_some();
    tokio::task::spawn_blocking(move || audio::analyse(bytes, hint, frequency))
        .await
        .map_err(|e| format!("the decoder failed: {e}"))?
}

fn compare_audio(targets: &AudioTargets, found: Result<AudioFacts, String>, prefix: &str, v: &mut Verdict) {
    match found {
        Ok(facts) => v.mismatches.extend(audio::compare(targets, &facts, prefix)),
        Err(why) => v.mismatches.push(mismatch(format!("{prefix} (decode)"), "audio that Symphonia decodes", why)),
    }
}

/// The step's request with its `Range` header replaced (or, with `None`, removed).
fn with_range(req: &Request, header: Option<&str>) -> Request {
    let mut r = req.clone();
    r.headers.retain(|k, _| !k.eq_ignore_ascii_case("range"));
    if let Some(h) = header {
        // Already interpolated: escape `{{` so that sending does not interpolate it again.
        r.headers.insert("range".to_owned(), Text(h.replace("{{", "\\{{")));
    }
    r
}

fn mismatch(check: impl Into<String>, expected: impl Into<String>, actual: impl Into<String>) -> Mismatch {
    Mismatch { check: check.into(), expected: expected.into(), actual: actual.into() }
}

/// Keeps every diff: a second one goes below the first.
fn add_diff(v: &mut Verdict, diff: String) {
    match &mut v.diff {
        Some(d) => {
            d.push('\n');
            d.push_str(&diff);
        }
        None => v.diff = Some(diff),
    }
}
