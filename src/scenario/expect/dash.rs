//! `expect.dash`: an MPD read with the `dash-mpd` crate, its representations as JSON objects that the
//! usual matchers check, the set comparison (exact or at least), and the URLs of a representation's init
//! and media segments. No HTTP here: `run/media.rs` fetches what [`plan`] lists.
//!
//! Only the first `Period` is read (an audio track has one). URLs resolve as RFC 3986 says (`url` crate):
//! the manifest's URL, then each `BaseURL` on the way down (MPD, Period, AdaptationSet, Representation),
//! then the segment URL. So a relative segment URL that carries its own query (as `stream::mpd` writes the
//! signed `exp`/`sig`) keeps it, and one without a query gets none, unless `append_manifest_query` asks
//! for the manifest's.

use std::time::Duration;

use dash_mpd::{AdaptationSet, MPD, Period, Representation, SegmentTemplate};
use regex::Regex;
use serde_json::{Map, Value};
use url::Url;

use super::{CheckError, Mismatch, compact, describe, eval, line_diff, pretty};
use crate::scenario::interp::Vars;
use crate::scenario::model::{RepresentationExpect, RepresentationSelector};

/// More media segments than this in one representation is taken as a broken manifest.
const MAX_SEGMENTS: usize = 100_000;

/// Parses an MPD.
///
/// # Errors
/// The parser's message.
pub fn parse(xml: &str) -> Result<MPD, String> {
    dash_mpd::parse(xml).map_err(|e| e.to_string())
}

/// The presentation's duration: `MPD@mediaPresentationDuration`, else the first Period's `duration`.
pub fn duration(mpd: &MPD) -> Option<Duration> {
    mpd.mediaPresentationDuration.or_else(|| mpd.periods.first().and_then(|p| p.duration))
}

/// Where a representation is: adaptation set and representation index in the first Period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepAt {
    /// Index of the `AdaptationSet`.
    pub set: usize,
    /// Index of the `Representation` in it.
    pub rep: usize,
}

/// Every representation of the first Period, in document order, with its JSON view: `id`, `codecs`,
/// `mime_type`, `audio_sampling_rate`, `bandwidth`, `channels` and `segments`, each only when known
/// (inherited from the `AdaptationSet` where the `Representation` lacks it; numeric text as numbers).
pub fn representations(mpd: &MPD) -> Vec<(RepAt, Value)> {
    let Some(period) = mpd.periods.first() else { return Vec::new() };
    let mut out = Vec::new();
    for (si, set) in period.adaptations.iter().enumerate() {
        for (ri, rep) in set.representations.iter().enumerate() {
            let mut m = Map::new();
            let text = |v: Option<&String>| v.map(|s| Value::String(s.clone()));
            let numeric = |v: Option<&String>| {
                v.map(|s| s.trim().parse::<u64>().map_or_else(|_| Value::String(s.clone()), Value::from))
            };
            let fields = [
                ("id", text(rep.id.as_ref())),
                ("codecs", text(rep.codecs.as_ref().or(set.codecs.as_ref()))),
                ("mime_type", text(rep.mimeType.as_ref().or(set.mimeType.as_ref()))),
                ("audio_sampling_rate", numeric(rep.audioSamplingRate.as_ref().or(set.audioSamplingRate.as_ref()))),
                ("bandwidth", rep.bandwidth.map(Value::from)),
                (
                    "channels",
                    numeric(
                        rep.AudioChannelConfiguration
                            .first()
                            .or(set.AudioChannelConfiguration.first())
                            .and_then(|c| c.value.as_ref()),
                    ),
                ),
                ("segments", media_count(mpd, period, set, rep).ok().map(Value::from)),
            ];
            for (k, v) in fields {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            }
            out.push((RepAt { set: si, rep: ri }, Value::Object(m)));
        }
    }
    out
}

/// `UHD`, or `#2` for a representation without an id.
pub fn label(view: &Value, index: usize) -> String {
    view.get("id").and_then(Value::as_str).map_or_else(|| format!("#{index}"), str::to_owned)
}

/// The checks of `e` that fail on `view`, as (key and suffix, expected, actual).
fn failures(e: &RepresentationExpect, view: &Value, vars: &Vars) -> Result<Vec<(String, String, String)>, CheckError> {
    let mut out = Vec::new();
    for (key, m) in e.fields() {
        for (what, exp, act) in eval(m, view.get(key), vars)? {
            out.push((format!("{key}{what}"), exp, act));
        }
    }
    Ok(out)
}

/// An expected entry as JSON for the diff: where `closest` passes a check, its own value (so the line
/// does not show as changed); elsewhere the literal expected, or a matcher's description. The `id` of
/// `closest` leads, to tell the entries apart, when the entry does not check it.
fn shown(e: &RepresentationExpect, closest: Option<&Value>, vars: &Vars) -> Result<Value, CheckError> {
    let mut m = Map::new();
    if let (None, Some(id)) = (&e.id, closest.and_then(|c| c.get("id"))) {
        m.insert("id".to_owned(), id.clone());
    }
    for (key, matcher) in e.fields() {
        let actual = closest.and_then(|c| c.get(key));
        let passes = eval(matcher, actual, vars)?.is_empty();
        let v = match (passes, actual, matcher) {
            (true, Some(a), _) => a.clone(),
            (_, _, crate::scenario::model::Matcher::Literal(v)) => vars.value(v)?,
            (_, _, crate::scenario::model::Matcher::Spec(s)) => Value::String(describe(s)),
        };
        m.insert(key.to_owned(), v);
    }
    Ok(Value::Object(m))
}

/// The keys of `view` that an entry's diff shows: `id`, then those the entry checks (all of them for a
/// representation no entry was paired with).
fn projected(view: &Value, e: Option<&RepresentationExpect>) -> Value {
    let keys: Vec<&str> = match e {
        Some(e) => std::iter::once("id").chain(e.fields().into_iter().map(|(k, _)| k)).collect(),
        None => return view.clone(),
    };
    let mut m = Map::new();
    for k in keys {
        if let Some(v) = view.get(k) {
            m.insert(k.to_owned(), v.clone());
        }
    }
    Value::Object(m)
}

/// Compares the representations with a list of expected entries: each entry needs a representation of
/// its own that passes all its checks (a maximum bipartite matching, so overlapping entries are fine);
/// with `exact`, no representation may be left over. Pushes one mismatch per unmatched entry (naming the
/// closest representation and what differs) and per left-over representation; returns a line diff of
/// the expected entries against the representations, in matching order, when anything failed.
///
/// # Errors
/// A matcher that cannot be evaluated (a variable without a value, a bad regex).
pub fn check_set(
    check: &str,
    expected: &[RepresentationExpect],
    actual: &[Value],
    exact: bool,
    vars: &Vars,
    out: &mut Vec<Mismatch>,
) -> Result<Option<String>, CheckError> {
    let mut fails: Vec<Vec<Vec<(String, String, String)>>> = Vec::with_capacity(expected.len());
    for e in expected {
        fails.push(actual.iter().map(|a| failures(e, a, vars)).collect::<Result<_, _>>()?);
    }
    let fits = |i: usize, j: usize| fails[i][j].is_empty();
    // Kuhn's augmenting paths: owner[j] is the entry representation j is given to.
    let mut owner: Vec<Option<usize>> = vec![None; actual.len()];
    fn augment(i: usize, seen: &mut [bool], owner: &mut [Option<usize>], fits: &dyn Fn(usize, usize) -> bool) -> bool {
        for j in 0..owner.len() {
            if fits(i, j) && !seen[j] {
                seen[j] = true;
                if owner[j].is_none_or(|k| augment(k, seen, owner, fits)) {
                    owner[j] = Some(i);
                    return true;
                }
            }
        }
        false
    }
    for i in 0..expected.len() {
        augment(i, &mut vec![false; actual.len()], &mut owner, &fits);
    }
    let given: Vec<Option<usize>> = (0..expected.len()).map(|i| owner.iter().position(|o| *o == Some(i))).collect();
    let before = out.len();
    let mut order: Vec<(Option<usize>, Option<usize>)> = Vec::new(); // (entry, representation) for the diff
    for (i, e) in expected.iter().enumerate() {
        if let Some(j) = given[i] {
            order.push((Some(i), Some(j)));
            continue;
        }
        let free = |j: &usize| owner[*j].is_none();
        let closest = (0..actual.len())
            .filter(free)
            .min_by_key(|j| fails[i][*j].len())
            .or_else(|| (0..actual.len()).min_by_key(|j| fails[i][*j].len()));
        let want = compact(&shown(e, None, vars)?, 300);
        let why = match closest {
            None => "no representations".to_owned(),
            Some(j) if fits(i, j) => {
                format!("{} matches, but another entry needs it", label(&actual[j], j))
            }
            Some(j) => {
                let diffs: Vec<String> =
                    fails[i][j].iter().map(|(k, exp, act)| format!("{k} expected {exp}, got {act}")).collect();
                format!("no representation matches; the closest, {}: {}", label(&actual[j], j), diffs.join("; "))
            }
        };
        out.push(Mismatch::new(format!("{check}[{i}]"), format!("a representation with {want}"), why));
        order.push((Some(i), closest.filter(|j| owner[*j].is_none() && !order.iter().any(|(_, o)| *o == Some(*j)))));
    }
    if exact {
        for (j, a) in actual.iter().enumerate() {
            if owner[j].is_none() {
                out.push(Mismatch::new(
                    format!("{check} (unexpected)"),
                    "only the representations listed",
                    format!("{} {}", label(a, j), compact(a, 300)),
                ));
            }
        }
    }
    if out.len() == before {
        return Ok(None);
    }
    for j in 0..actual.len() {
        if !order.iter().any(|(_, o)| *o == Some(j)) {
            order.push((None, Some(j)));
        }
    }
    let (mut exp_side, mut act_side) = (Vec::new(), Vec::new());
    for (i, j) in &order {
        let a = j.map(|j| &actual[j]);
        if let Some(i) = i {
            exp_side.push(shown(&expected[*i], a, vars)?);
        }
        if let Some(a) = a {
            if i.is_some() || exact {
                act_side.push(projected(a, i.map(|i| &expected[i])));
            }
        }
    }
    Ok(Some(line_diff(&pretty(&Value::Array(exp_side)), &pretty(&Value::Array(act_side)))))
}

/// Which representation a `fetch` means, by index into [`representations`].
///
/// # Errors
/// A matcher that cannot be evaluated.
pub fn select(
    sel: &RepresentationSelector,
    views: &[(RepAt, Value)],
    vars: &Vars,
) -> Result<Option<usize>, CheckError> {
    Ok(match sel {
        RepresentationSelector::Id(id) => {
            let id = vars.text(id)?;
            views.iter().position(|(_, v)| v.get("id").and_then(Value::as_str) == Some(id.as_str()))
        }
        RepresentationSelector::Index(i) => usize::try_from(*i).ok().filter(|i| *i < views.len()),
        RepresentationSelector::Match(e) => {
            let mut found = None;
            for (k, (_, v)) in views.iter().enumerate() {
                if failures(e, v, vars)?.is_empty() {
                    found = Some(k);
                    break;
                }
            }
            found
        }
    })
}

/// The URLs to download one representation: its init segment (when it has one of its own) and every
/// media segment, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentPlan {
    /// The initialization segment.
    pub init: Option<Url>,
    /// The media segments (for a representation that is one file, that file).
    pub media: Vec<Url>,
}

/// The segment URLs of the representation at `at`, resolved against `manifest` (the URL the MPD was
/// fetched from). With `append_manifest_query`, the manifest's query parameters are added, as written,
/// to every URL that lacks them.
///
/// # Errors
/// What the manifest lacks to list the segments (no template, no timeline and no duration, a URL that
/// does not resolve).
pub fn plan(mpd: &MPD, at: RepAt, manifest: &Url, append_manifest_query: bool) -> Result<SegmentPlan, String> {
    let period = mpd.periods.first().ok_or("the MPD has no Period")?;
    let set = period.adaptations.get(at.set).ok_or("no such AdaptationSet")?;
    let rep = set.representations.get(at.rep).ok_or("no such Representation")?;
    let mut base = manifest.clone();
    for b in
        [mpd.base_url.first(), period.BaseURL.first(), set.BaseURL.first(), rep.BaseURL.first()].into_iter().flatten()
    {
        base = base.join(b.base.trim()).map_err(|e| format!("BaseURL {:?}: {e}", b.base))?;
    }
    let join = |s: &str| base.join(s.trim()).map_err(|e| format!("segment URL {s:?}: {e}"));
    let id = rep.id.clone().unwrap_or_default();
    let bandwidth = rep.bandwidth.unwrap_or(0);
    let mut plan = if let Some(t) = template(period, set, rep) {
        let init = match t.initialization.clone().or_else(|| t.Initialization.as_ref()?.sourceURL.clone()) {
            Some(i) => Some(join(&fill(&i, &id, bandwidth, 0, 0)?)?),
            None => None,
        };
        let media_tpl = t.media.clone().ok_or("the SegmentTemplate has no @media")?;
        let mut media = Vec::new();
        for (number, time) in template_segments(mpd, period, &t)? {
            media.push(join(&fill(&media_tpl, &id, bandwidth, number, time)?)?);
        }
        SegmentPlan { init, media }
    } else if let Some(list) = rep.SegmentList.as_ref().or(set.SegmentList.as_ref()).or(period.SegmentList.as_ref()) {
        let init = match list.Initialization.as_ref().and_then(|i| i.sourceURL.as_ref()) {
            Some(i) => Some(join(i)?),
            None => None,
        };
        let mut media = Vec::new();
        for s in &list.segment_urls {
            if s.mediaRange.is_some() {
                return Err("SegmentURL@mediaRange (byte ranges of one file) is not supported".into());
            }
            media.push(match &s.media {
                Some(m) => join(m)?,
                None => base.clone(),
            });
        }
        SegmentPlan { init, media }
    } else {
        // No template and no list: the representation is one file at its BaseURL (SegmentBase or nothing).
        SegmentPlan { init: None, media: vec![base.clone()] }
    };
    if append_manifest_query {
        if let Some(q) = manifest.query().filter(|q| !q.is_empty()) {
            for u in plan.init.iter_mut().chain(plan.media.iter_mut()) {
                append_query(u, q);
            }
        }
    }
    Ok(plan)
}

/// The number of media segments a representation lists.
fn media_count(mpd: &MPD, period: &Period, set: &AdaptationSet, rep: &Representation) -> Result<usize, String> {
    if let Some(t) = template(period, set, rep) {
        return Ok(template_segments(mpd, period, &t)?.len());
    }
    match rep.SegmentList.as_ref().or(set.SegmentList.as_ref()).or(period.SegmentList.as_ref()) {
        Some(l) => Ok(l.segment_urls.len()),
        None => Ok(1),
    }
}

/// The representation's `SegmentTemplate`, each attribute taken from the nearest level that has it
/// (Representation, then AdaptationSet, then Period).
fn template(period: &Period, set: &AdaptationSet, rep: &Representation) -> Option<SegmentTemplate> {
    let levels: Vec<&SegmentTemplate> =
        [rep.SegmentTemplate.as_ref(), set.SegmentTemplate.as_ref(), period.SegmentTemplate.as_ref()]
            .into_iter()
            .flatten()
            .collect();
    let first = (*levels.first()?).clone();
    macro_rules! inherit {
        ($($f:ident),*) => {
            SegmentTemplate { $($f: levels.iter().find_map(|t| t.$f.clone()),)* ..first }
        };
    }
    Some(inherit!(media, initialization, Initialization, startNumber, timescale, duration, SegmentTimeline))
}

/// `(number, time)` of each media segment of a template: from its `SegmentTimeline`, or from `@duration`
/// and the presentation's duration.
fn template_segments(mpd: &MPD, period: &Period, t: &SegmentTemplate) -> Result<Vec<(u64, u64)>, String> {
    let timescale = t.timescale.unwrap_or(1).max(1);
    let start = t.startNumber.unwrap_or(1);
    let period_len = period.duration.or_else(|| {
        let start = period.start.unwrap_or_default();
        mpd.mediaPresentationDuration.map(|d| d.saturating_sub(start))
    });
    let period_ticks = period_len.map(|d| (d.as_secs_f64() * timescale as f64).round() as u64);
    let mut out = Vec::new();
    if let Some(tl) = &t.SegmentTimeline {
        let mut time = 0u64;
        for (k, s) in tl.segments.iter().enumerate() {
            if let Some(st) = s.t {
                time = st;
            }
            if s.d == 0 {
                return Err("a SegmentTimeline S has d=0".into());
            }
            let repeat = match s.r {
                Some(r) if r >= 0 => r as u64,
                Some(_) => {
                    // r=-1: repeat up to the next S@t, or to the end of the Period.
                    let end =
                        tl.segments.get(k + 1).and_then(|n| n.t).or(period_ticks).ok_or(
                            "a SegmentTimeline S has r=-1 but neither a next S@t nor a Period duration ends it",
                        )?;
                    end.saturating_sub(time).div_ceil(s.d).saturating_sub(1)
                }
                None => 0,
            };
            for _ in 0..=repeat {
                out.push((start + out.len() as u64, time));
                time += s.d;
                if out.len() > MAX_SEGMENTS {
                    return Err(format!("more than {MAX_SEGMENTS} segments"));
                }
            }
        }
    } else if let Some(d) = t.duration.filter(|d| *d > 0.0) {
        let ticks = period_ticks.ok_or("a SegmentTemplate@duration needs the MPD's mediaPresentationDuration")?;
        let count = (ticks as f64 / d).ceil() as usize;
        if count > MAX_SEGMENTS {
            return Err(format!("more than {MAX_SEGMENTS} segments"));
        }
        out.extend((0..count as u64).map(|k| (start + k, (k as f64 * d) as u64)));
    } else {
        return Err("the SegmentTemplate has neither a SegmentTimeline nor a @duration".into());
    }
    Ok(out)
}

/// Fills a template's identifiers (ISO/IEC 23009-1 §5.3.9.4.4): `$RepresentationID$`, `$Number$`,
/// `$Time$`, `$Bandwidth$`, each with an optional `%0<width>d`, and `$$` for a dollar sign.
///
/// # Errors
/// An identifier the standard does not define.
pub fn fill(template: &str, id: &str, bandwidth: u64, number: u64, time: u64) -> Result<String, String> {
    let re = Regex::new(r"\$(\w*)(?:%0(\d+)d)?\$").expect("valid");
    let mut err = None;
    let out = re.replace_all(template, |c: &regex::Captures<'_>| {
        let width: usize = c.get(2).and_then(|w| w.as_str().parse().ok()).unwrap_or(0);
        let n = match &c[1] {
            "" => return "$".to_owned(),
            "RepresentationID" => return id.to_owned(),
            "Number" => number,
            "Time" => time,
            "Bandwidth" => bandwidth,
            other => {
                err.get_or_insert_with(|| format!("unknown template identifier ${other}$ in {template:?}"));
                return String::new();
            }
        };
        format!("{n:0width$}")
    });
    match err {
        Some(e) => Err(e),
        None => Ok(out.into_owned()),
    }
}

/// Adds each `name=value` of `query` (as written) whose name `u`'s query lacks.
fn append_query(u: &mut Url, query: &str) {
    let names: Vec<String> =
        u.query().unwrap_or("").split('&').map(|p| p.split('=').next().unwrap_or("").to_owned()).collect();
    let mut q = u.query().unwrap_or("").to_owned();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let name = pair.split('=').next().unwrap_or("");
        if !names.iter().any(|n| n == name) {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(pair);
        }
    }
    u.set_query(Some(&q));
}

#[cfg(test)]
mod tests;
