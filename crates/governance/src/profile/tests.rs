use super::*;

const HEAD: &str = r#"
[profile]
id = "t"
name_zh = "测试"
name_en = "test"
version = "1"
description = "unit test"
"#;

fn leaf(id: &str, parent: &str, level: u8, weight: f64, source: &str) -> String {
    format!(
        r#"
[[indicator]]
id = "{id}"
parent = "{parent}"
level = {level}
name_zh = "x"
name_en = "x"
unit = "ratio"
direction = "higher"
normalisation = {{ kind = "share" }}
weight = {weight}
source = {source}
"#
    )
}

fn block(id: &str, parent: Option<&str>, level: u8, weight: f64) -> String {
    let parent = parent
        .map(|p| format!("parent = \"{p}\"\n"))
        .unwrap_or_default();
    format!(
        "\n[[block]]\nid = \"{id}\"\n{parent}level = {level}\nname_zh = \"x\"\nname_en = \"x\"\nweight = {weight}\n"
    )
}

fn load(parts: &[String]) -> Result<Profile, ProfileError> {
    Profile::from_toml(&format!("{HEAD}{}", parts.concat()))
}

const STATIC: &str = "{ kind = \"static\" }";

#[test]
fn builtin_profiles_load_and_weights_sum_to_one() {
    for (name, _) in BUILTIN_PROFILES {
        let p = builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let total: f64 = p.effective_weights().values().sum();
        assert!((total - 1.0).abs() < 1e-12, "{name}: {total}");
    }
    let six = builtin("six-pillar").unwrap();
    let names: Vec<&str> = six.pillars().iter().map(|b| b.name_zh.as_str()).collect();
    assert_eq!(
        names,
        [
            "数字基础",
            "智慧治理",
            "智慧民生",
            "数字经济",
            "数字市民",
            "智慧环境"
        ]
    );
    assert!(six.live_metrics().contains("incident_on_time_closure"));
    let gbt = builtin("gbt-33356").unwrap();
    assert_eq!(gbt.pillars().len(), 8);
    assert_eq!(gbt.blocks_at(2).len(), 21);
    assert!(matches!(
        builtin("nope"),
        Err(ProfileError::UnknownProfile { .. })
    ));
}

#[test]
fn json_and_toml_describe_the_same_profile() {
    let p = builtin("iso-37122-live").unwrap();
    let json = serde_json::to_string(p.file()).unwrap();
    assert_eq!(Profile::from_json(&json).unwrap(), p);
}

#[test]
fn a_valid_minimal_profile_loads() {
    let p = load(&[block("a", None, 1, 1.0), leaf("x", "a", 2, 1.0, STATIC)]).unwrap();
    assert_eq!(p.indicators().len(), 1);
}

#[test]
fn structural_errors_name_the_offender() {
    let e = load(&[block("a", None, 1, 1.0), leaf("a", "a", 2, 1.0, STATIC)]);
    assert_eq!(e, Err(ProfileError::DuplicateId { id: "a".into() }));
    let e = load(&[block("a", None, 1, 1.0), leaf("x", "b", 2, 1.0, STATIC)]);
    assert_eq!(
        e,
        Err(ProfileError::UnknownParent {
            id: "x".into(),
            parent: "b".into()
        })
    );
    let e = load(&[block("a", None, 1, 1.0), leaf("x", "a", 3, 1.0, STATIC)]);
    assert_eq!(
        e,
        Err(ProfileError::LevelMismatch {
            id: "x".into(),
            level: 3,
            expected: 2
        })
    );
    let e = load(&[
        block("a", None, 1, 1.0),
        leaf("Bad-Id", "a", 2, 1.0, STATIC),
    ]);
    assert_eq!(
        e,
        Err(ProfileError::BadId {
            id: "Bad-Id".into()
        })
    );
    let e = load(&[block("a", None, 1, 1.0)]);
    assert_eq!(e, Err(ProfileError::EmptyBlock { id: "a".into() }));
}

#[test]
fn weight_errors_are_reported() {
    let e = load(&[block("a", None, 1, 1.0), leaf("x", "a", 2, -1.0, STATIC)]);
    assert_eq!(
        e,
        Err(ProfileError::BadWeight {
            id: "x".into(),
            weight: -1.0
        })
    );
    let e = load(&[block("a", None, 1, 1.0), leaf("x", "a", 2, 0.0, STATIC)]);
    assert_eq!(e, Err(ProfileError::ZeroWeights { id: "a".into() }));
}

#[test]
fn parent_cycles_are_found() {
    let e = load(&[
        block("a", Some("b"), 2, 1.0),
        block("b", Some("a"), 2, 1.0),
        leaf("x", "a", 3, 1.0, STATIC),
    ]);
    assert!(matches!(e, Err(ProfileError::Cycle { path }) if path == ["a", "b", "a"]));
}

#[test]
fn formula_cycles_and_unknown_references_are_found() {
    let f = |args: &str| format!("{{ kind = \"formula\", op = \"sum\", args = [{args}] }}");
    let e = load(&[
        block("a", None, 1, 1.0),
        leaf("x", "a", 2, 1.0, &f("\"y\"")),
        leaf("y", "a", 2, 1.0, &f("\"x\"")),
    ]);
    assert!(matches!(e, Err(ProfileError::Cycle { path }) if path == ["x", "y", "x"]));
    let e = load(&[
        block("a", None, 1, 1.0),
        leaf("x", "a", 2, 1.0, &f("\"zz\"")),
    ]);
    assert_eq!(
        e,
        Err(ProfileError::UnknownReference {
            indicator: "x".into(),
            reference: "zz".into()
        })
    );
    let ratio = "{ kind = \"formula\", op = \"ratio\", args = [\"x\"] }";
    let e = load(&[
        block("a", None, 1, 1.0),
        leaf("x", "a", 2, 1.0, STATIC),
        leaf("r", "a", 2, 1.0, ratio),
    ]);
    assert!(matches!(e, Err(ProfileError::FormulaArity { got: 1, .. })));
}

#[test]
fn unknown_live_metrics_are_rejected() {
    let e = load(&[
        block("a", None, 1, 1.0),
        leaf(
            "x",
            "a",
            2,
            1.0,
            "{ kind = \"live\", metric = \"no_such_metric\" }",
        ),
    ]);
    assert_eq!(
        e,
        Err(ProfileError::UnknownMetric {
            indicator: "x".into(),
            metric: "no_such_metric".into()
        })
    );
}

#[test]
fn target_direction_must_match() {
    let text = format!(
        "{HEAD}{}{}",
        block("a", None, 1, 1.0),
        leaf("x", "a", 2, 1.0, STATIC).replace(
            "normalisation = { kind = \"share\" }",
            "normalisation = { kind = \"target\", baseline = 0.9, target = 0.5 }"
        )
    );
    assert!(matches!(
        Profile::from_toml(&text),
        Err(ProfileError::BadNormalisation { id, .. }) if id == "x"
    ));
}

#[test]
fn parse_errors_carry_the_parser_message() {
    let e = Profile::from_toml("[profile]\nid = 3\n");
    assert!(matches!(e, Err(ProfileError::Parse { format: "toml", .. })));
}
