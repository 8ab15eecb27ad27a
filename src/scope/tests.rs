use super::*;
use proptest::prelude::*;

fn set(s: &str) -> ScopeSet {
    ScopeSet::parse(s).expect("valid scopes")
}

#[test]
fn full_scope_supersedes_its_read_scope() {
    assert_eq!(set("music::library:read music::library").to_string(), "music::library");
    assert_eq!(set("music::library:read profile").to_string(), "music::library:read profile");
    assert!(set("music::library").satisfies(&Scope::parse("music::library:read").unwrap()));
    assert!(!set("music::library:read").satisfies(&Scope::parse("music::library").unwrap()));
    assert!(!set("music::library").satisfies(&Scope::parse("music::catalog").unwrap()));
}

#[test]
fn plain_scopes_have_no_supersede_relation() {
    assert_eq!(set("profile profile:user_id").to_string(), "profile profile:user_id");
    assert_eq!(Scope::parse("alexa:all").unwrap().superseded_by(), None);
    assert_eq!(Scope::parse("alexa::ask:catalogs:read").unwrap().superseded_by(), Some("alexa::ask:catalogs"));
}

#[test]
fn grammar_rejects_malformed_tokens() {
    for bad in ["", "music::", "::x", "a b", "music::library:", "pro%file", "x:::y", "a&b"] {
        assert!(Scope::parse(bad).is_err(), "{bad:?} should be rejected");
    }
    for good in
        ["profile", "profile:user_id", "music::library:read", "alexa::ask:skills:readwrite", "amazon_music:access"]
    {
        assert!(Scope::parse(good).is_ok(), "{good:?} should parse");
    }
}

#[test]
fn every_known_scope_parses() {
    for k in KNOWN_SCOPES {
        assert!(Scope::parse(k.name).is_ok(), "{}", k.name);
    }
}

fn scope_strategy() -> impl Strategy<Value = Scope> {
    prop_oneof![
        proptest::sample::select(KNOWN_SCOPES.iter().map(|k| k.name).collect::<Vec<_>>()),
        "[a-z]{1,6}::[a-z]{1,6}(:read)?".prop_map(|s| Box::leak(s.into_boxed_str()) as &str),
    ]
    .prop_map(|s| Scope::parse(s).expect("generated scopes are valid"))
}

proptest! {
    #[test]
    fn normalisation_is_idempotent(scopes in proptest::collection::vec(scope_strategy(), 0..8)) {
        let once = ScopeSet::new(scopes);
        let twice = ScopeSet::new(once.iter().cloned());
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(ScopeSet::parse(&once.to_string()).unwrap(), once);
    }

    #[test]
    fn normalisation_ignores_order_and_duplicates(scopes in proptest::collection::vec(scope_strategy(), 0..8), seed in any::<u64>()) {
        let mut shuffled = scopes.clone();
        shuffled.extend(scopes.iter().take(2).cloned());
        let n = shuffled.len().max(1);
        shuffled.rotate_left((seed as usize) % n);
        shuffled.reverse();
        prop_assert_eq!(ScopeSet::new(scopes), ScopeSet::new(shuffled));
    }

    #[test]
    fn satisfaction_is_monotone(granted in proptest::collection::vec(scope_strategy(), 0..6),
                                extra in proptest::collection::vec(scope_strategy(), 0..4),
                                required in scope_strategy()) {
        let small = ScopeSet::new(granted.clone());
        let big = ScopeSet::new(granted.into_iter().chain(extra));
        if small.satisfies(&required) {
            prop_assert!(big.satisfies(&required));
        }
    }

    #[test]
    fn a_set_satisfies_everything_it_was_built_from(scopes in proptest::collection::vec(scope_strategy(), 1..8)) {
        let s = ScopeSet::new(scopes.clone());
        for sc in &scopes {
            prop_assert!(s.satisfies(sc));
        }
    }
}

#[test]
fn the_request_path_finds_the_granted_scope_that_covers_in_place() {
    let g = "music::catalog music::library profile";
    assert_eq!(granted_covering(g, &["music::library:read"]), Some("music::library"));
    assert_eq!(granted_covering(g, &["music::profile:read", "music::profile"]), None);
    assert_eq!(
        granted_covering("music::profile:read", &["music::profile:read", "music::profile"]),
        Some("music::profile:read")
    );
    assert_eq!(granted_covering("music::library:read", &["music::library"]), None);
    // A parameter that is not a set of scopes grants nothing, as ScopeSet::parse says.
    assert_eq!(granted_covering("music::library bad!scope", &["music::library"]), None);
    assert_eq!(granted_covering("", &["music::library"]), None);
}

proptest! {
    /// In place or through a parsed set, the same answer: the first granted scope, in the set's order, that
    /// covers one of the required.
    #[test]
    fn in_place_and_parsed_agree(
        granted in proptest::collection::vec(prop::sample::select(vec![
            "music::library", "music::library:read", "music::catalog", "music::profile", "music::profile:read",
            "profile", "x::y:read",
        ]), 0..5),
        required in proptest::collection::vec(prop::sample::select(vec![
            "music::library", "music::library:read", "music::profile:read", "music::profile", "profile",
        ]), 1..3),
    ) {
        let set = ScopeSet::parse(&granted.join(" ")).unwrap();
        let minted = set.to_string();
        let wanted: Vec<Scope> = required.iter().map(|r| Scope::parse(r).unwrap()).collect();
        let parsed = set.iter().find(|g| wanted.iter().any(|w| g.covers(w))).map(Scope::as_str);
        prop_assert_eq!(granted_covering(&minted, &required), parsed);
    }
}
