use serde_json::json;

use super::*;
use crate::stream::{Quality, SegmentLayout, mpd};

fn entries(yaml: &str) -> Vec<RepresentationExpect> {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn views(xml: &str) -> (MPD, Vec<(RepAt, Value)>) {
    let m = parse(xml).expect("parses");
    let v = representations(&m);
    (m, v)
}

fn actual(v: &[(RepAt, Value)]) -> Vec<Value> {
    v.iter().map(|(_, j)| j.clone()).collect()
}

#[test]
fn the_engine_s_mpd_reads_as_one_view_per_quality() {
    let (m, v) = views(&mpd(7, &Quality::ALL, Some("q=SD,HD,UHD&exp=9&sig=ab")));
    assert_eq!(duration(&m), Some(Duration::from_secs(7)));
    let got = actual(&v);
    assert_eq!(
        got[2],
        json!({"id": "UHD", "codecs": "flac", "mime_type": "audio/mp4", "audio_sampling_rate": 96000,
               "bandwidth": Quality::Uhd.nominal_bandwidth(), "channels": 2, "segments": 2})
    );
    assert_eq!(got[0]["codecs"], "mp4a.6B");
    assert_eq!(v[1].0, RepAt { set: 0, rep: 1 });
}

#[test]
fn an_exact_set_matches_in_any_order_and_reports_what_is_missing_with_the_closest() {
    let (_, v) = views(&mpd(7, &[Quality::Sd, Quality::Hd], None));
    let a = actual(&v);
    let vars = Vars::new();
    let mut out = Vec::new();
    let ok = entries("[{codecs: flac}, {id: SD, audio_sampling_rate: 44100}]");
    assert_eq!(check_set("dash representations", &ok, &a, true, &vars, &mut out).unwrap(), None);
    assert!(out.is_empty(), "{out:?}");

    let want = entries("[{id: SD}, {id: HD}, {codecs: flac, audio_sampling_rate: 96000}]");
    let diff = check_set("dash representations", &want, &a, true, &vars, &mut out).unwrap().expect("a diff");
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].check, "dash representations[2]");
    assert_eq!(out[0].expected, r#"a representation with {"codecs":"flac","audio_sampling_rate":96000}"#);
    assert_eq!(
        out[0].actual,
        "no representation matches; the closest, HD: audio_sampling_rate expected 96000, got 44100"
    );
    assert!(diff.contains("-    \"audio_sampling_rate\": 96000"), "{diff}");
}

#[test]
fn an_exact_set_refuses_a_left_over_representation_and_include_allows_it() {
    let (_, v) = views(&mpd(7, &Quality::ALL, None));
    let a = actual(&v);
    let vars = Vars::new();
    let want = entries("[{id: SD}, {id: HD}]");
    let mut out = Vec::new();
    let diff = check_set("dash representations", &want, &a, true, &vars, &mut out).unwrap().expect("a diff");
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].check, "dash representations (unexpected)");
    assert!(out[0].actual.starts_with("UHD {"), "{}", out[0].actual);
    assert!(diff.contains("+    \"id\": \"UHD\""), "{diff}");
    out.clear();
    assert_eq!(check_set("dash representations_include", &want, &a, false, &vars, &mut out).unwrap(), None);
}

#[test]
fn overlapping_entries_are_matched_by_augmenting_paths() {
    let (_, v) = views(&mpd(7, &[Quality::Hd, Quality::Uhd], None));
    // Greedy would give HD to the first entry and leave the second without one.
    let want = entries("[{codecs: flac}, {codecs: flac, audio_sampling_rate: 44100}]");
    let mut out = Vec::new();
    assert_eq!(check_set("dash representations", &want, &actual(&v), true, &Vars::new(), &mut out).unwrap(), None);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn selectors_take_an_id_an_index_or_checks() {
    let (_, v) = views(&mpd(7, &Quality::ALL, None));
    let vars = Vars::new();
    assert_eq!(select(&RepresentationSelector::Id("HD".into()), &v, &vars).unwrap(), Some(1));
    assert_eq!(select(&RepresentationSelector::Index(2), &v, &vars).unwrap(), Some(2));
    assert_eq!(select(&RepresentationSelector::Index(3), &v, &vars).unwrap(), None);
    let m = entries("[{audio_sampling_rate: 96000}]").remove(0);
    assert_eq!(select(&RepresentationSelector::Match(Box::new(m)), &v, &vars).unwrap(), Some(2));
}

#[test]
fn segment_urls_resolve_against_the_manifest_and_keep_their_signed_query() {
    let query = "q=SD,HD&exp=1300&sig=abc";
    let (m, v) = views(&mpd(9, &[Quality::Sd, Quality::Hd], Some(query)));
    let manifest = Url::parse(&format!("http://h:1/s/001-x/dash/B01/manifest.mpd?{query}")).unwrap();
    let p = plan(&m, v[1].0, &manifest, false).unwrap();
    assert_eq!(
        p.init.as_ref().map(Url::as_str),
        Some("http://h:1/s/001-x/dash/B01/hd/init.mp4?q=SD,HD&exp=1300&sig=abc")
    );
    assert_eq!(p.media.len() as u64, SegmentLayout::new(Quality::Hd, 9).count);
    assert_eq!(p.media[2].as_str(), "http://h:1/s/001-x/dash/B01/hd/3.m4s?q=SD,HD&exp=1300&sig=abc");
}

#[test]
fn bare_relative_urls_take_the_manifest_query_only_when_asked() {
    let (m, v) = views(&mpd(4, &[Quality::Hd], None));
    let manifest = Url::parse("http://h/dash/B01/manifest.mpd?exp=5&sig=x%2Cy").unwrap();
    let plain = plan(&m, v[0].0, &manifest, false).unwrap();
    assert_eq!(plain.media[0].as_str(), "http://h/dash/B01/hd/1.m4s");
    let carried = plan(&m, v[0].0, &manifest, true).unwrap();
    assert_eq!(carried.init.unwrap().as_str(), "http://h/dash/B01/hd/init.mp4?exp=5&sig=x%2Cy");
}

const LIVE_STYLE: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S" minBufferTime="PT2S"
     profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <BaseURL>https://cdn.example/a/</BaseURL>
  <Period id="p0">
    <AdaptationSet mimeType="audio/mp4" codecs="mp4a.40.2" audioSamplingRate="48000">
      <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
      <SegmentTemplate timescale="1000" duration="4000" startNumber="0"
                       initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number%05d$.m4s"/>
      <Representation id="aac-128" bandwidth="128000"/>
      <Representation id="aac-64" bandwidth="64000">
        <BaseURL>low/</BaseURL>
        <SegmentTemplate media="t$Time$-$Bandwidth$-$$.m4s">
          <SegmentTimeline><S t="0" d="3000" r="-1"/></SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>"#;

#[test]
fn templates_inherit_from_the_adaptation_set_and_fill_every_identifier() {
    let (m, v) = views(LIVE_STYLE);
    let a = actual(&v);
    assert_eq!(a[0]["codecs"], "mp4a.40.2");
    assert_eq!(a[0]["audio_sampling_rate"], 48000);
    assert_eq!(a[0]["segments"], 3, "10 s in 4 s segments");
    assert_eq!(a[1]["segments"], 4, "r=-1 repeats to the end of the Period");
    let manifest = Url::parse("http://origin/m.mpd?token=t").unwrap();
    let p = plan(&m, v[0].0, &manifest, false).unwrap();
    assert_eq!(p.init.unwrap().as_str(), "https://cdn.example/a/aac-128/init.mp4");
    let urls: Vec<&str> = p.media.iter().map(Url::as_str).collect();
    assert_eq!(urls[0], "https://cdn.example/a/aac-128/seg-00000.m4s");
    assert_eq!(urls[2], "https://cdn.example/a/aac-128/seg-00002.m4s");
    let p = plan(&m, v[1].0, &manifest, false).unwrap();
    let urls: Vec<&str> = p.media.iter().map(Url::as_str).collect();
    assert_eq!(
        urls,
        [
            "https://cdn.example/a/low/t0-64000-$.m4s",
            "https://cdn.example/a/low/t3000-64000-$.m4s",
            "https://cdn.example/a/low/t6000-64000-$.m4s",
            "https://cdn.example/a/low/t9000-64000-$.m4s"
        ]
    );
}

#[test]
fn unknown_template_identifiers_and_missing_timing_are_errors() {
    assert!(fill("$Foo$.m4s", "a", 1, 1, 0).unwrap_err().contains("$Foo$"));
    let xml = LIVE_STYLE.replace(r#"timescale="1000" duration="4000" "#, "").replace("PT10S", "PT0S");
    let (m, v) = views(&xml);
    let manifest = Url::parse("http://origin/m.mpd").unwrap();
    let err = plan(&m, v[0].0, &manifest, false).unwrap_err();
    assert!(err.contains("neither a SegmentTimeline nor a @duration"), "{err}");
}
