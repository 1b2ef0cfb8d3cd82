//! What CloudFormation makes of a template for given parameter values, for tests that need the
//! template as it takes effect: conditions decided, `Fn::If` branches taken, `AWS::NoValue`
//! dropped, resources and outputs whose condition is false left out, and parameters replaced by
//! their values (`Ref`, and `${Name}` in `Fn::Sub`; a `Fn::Sub` left with nothing to substitute
//! becomes its text). Only the intrinsics ebhook's templates use: `Fn::Equals`, `Fn::Not`,
//! `Fn::And`, `Fn::Or` and `Condition` in conditions. Everything else is left as it is.

use std::collections::BTreeMap;

use yaml_serde::{Mapping, Value};

/// `template` as deployed with `given` (parameter name, value); the parameters not given take
/// their defaults, and given values of `Number` parameters become numbers.
pub fn resolve(template: &Value, given: &[(&str, &str)]) -> Value {
    let mut values = BTreeMap::new();
    if let Some(parameters) = template.get("Parameters").and_then(Value::as_mapping) {
        for (name, declared) in parameters {
            let name = name.as_str().expect("a parameter name");
            let value = match given.iter().find(|(n, _)| *n == name) {
                Some((_, v)) if declared["Type"] == "Number" => v
                    .parse::<i64>()
                    .map_or_else(|_| Value::from(*v), Value::from),
                Some((_, v)) => Value::from(*v),
                None => match declared.get("Default") {
                    Some(default) => default.clone(),
                    None => panic!("parameter {name} has no default and no value"),
                },
            };
            values.insert(name.to_owned(), value);
        }
    }
    let mut resolver = Resolver {
        values,
        conditions: template
            .get("Conditions")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default(),
    };
    let mut out = template.clone();
    let Some(doc) = out.as_mapping_mut() else {
        panic!("a template is a mapping");
    };
    for section in ["Resources", "Outputs"] {
        let Some(entries) = doc.get(section).and_then(Value::as_mapping) else {
            continue;
        };
        let mut kept = Mapping::new();
        for (name, entry) in entries {
            let mut entry = entry.clone();
            if let Some(map) = entry.as_mapping_mut()
                && let Some(condition) = map.remove("Condition")
            {
                let condition = condition.as_str().expect("a condition name").to_owned();
                if !resolver.condition(&condition) {
                    continue;
                }
            }
            if let Some(entry) = resolver.value(&entry) {
                kept.insert(name.clone(), entry);
            }
        }
        doc.insert(section.into(), Value::Mapping(kept));
    }
    doc.remove("Conditions");
    out
}

struct Resolver {
    values: BTreeMap<String, Value>,
    conditions: Mapping,
}

impl Resolver {
    fn condition(&mut self, name: &str) -> bool {
        let definition = self
            .conditions
            .get(name)
            .unwrap_or_else(|| panic!("no condition {name}"))
            .clone();
        self.decide(&definition)
    }

    fn decide(&mut self, condition: &Value) -> bool {
        let (function, args) = single(condition).unwrap_or_else(|| panic!("{condition:?}"));
        let args = args.as_sequence();
        match (function, args.map(Vec::as_slice)) {
            ("Condition", _) => {
                let name = condition["Condition"].as_str().expect("a condition name");
                self.condition(name)
            }
            ("Fn::Equals", Some([a, b])) => {
                text(&self.value(a).unwrap_or_default()) == text(&self.value(b).unwrap_or_default())
            }
            ("Fn::Not", Some([c])) => !self.decide(c),
            ("Fn::And", Some(all)) => all.iter().all(|c| self.decide(c)),
            ("Fn::Or", Some(any)) => any.iter().any(|c| self.decide(c)),
            _ => panic!("a condition function ebhook's templates do not use: {condition:?}"),
        }
    }

    /// The value as CloudFormation would pass it on, or `None` for `AWS::NoValue`.
    fn value(&mut self, value: &Value) -> Option<Value> {
        if let Some((function, args)) = single(value) {
            match (function, args) {
                ("Ref", Value::String(name)) if name == "AWS::NoValue" => return None,
                ("Ref", Value::String(name)) if self.values.contains_key(name) => {
                    return Some(self.values[name].clone());
                }
                ("Fn::If", Value::Sequence(branches)) => {
                    let [condition, then, otherwise] = branches.as_slice() else {
                        panic!("Fn::If takes three arguments: {value:?}");
                    };
                    let condition = condition.as_str().expect("a condition name").to_owned();
                    let taken = if self.condition(&condition) {
                        then
                    } else {
                        otherwise
                    };
                    return self.value(taken);
                }
                ("Fn::Sub", Value::String(pattern)) => {
                    let mut substituted = pattern.clone();
                    for (name, v) in &self.values {
                        substituted = substituted.replace(&format!("${{{name}}}"), &text(v));
                    }
                    return Some(if substituted.contains("${") {
                        let mut sub = Mapping::new();
                        sub.insert("Fn::Sub".into(), substituted.into());
                        Value::Mapping(sub)
                    } else {
                        Value::String(substituted)
                    });
                }
                _ => {}
            }
        }
        Some(match value {
            Value::Mapping(map) => Value::Mapping(
                map.iter()
                    .filter_map(|(k, v)| self.value(v).map(|v| (k.clone(), v)))
                    .collect(),
            ),
            Value::Sequence(items) => {
                Value::Sequence(items.iter().filter_map(|v| self.value(v)).collect())
            }
            other => other.clone(),
        })
    }
}

/// The one key and its value of a one-entry mapping (an intrinsic function).
fn single(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_mapping().filter(|m| m.len() == 1)?;
    let (key, args) = map.iter().next()?;
    Some((key.as_str()?, args))
}

/// A scalar as CloudFormation compares and substitutes it: as text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => panic!("not a scalar: {other:?}"),
    }
}

#[test]
fn resolves_conditions_branches_and_parameters() {
    let template: Value = yaml_serde::from_str(
        r#"
Parameters:
  Bus: {Type: String, Default: ""}
  Reserved: {Type: Number, Default: 0}
  Provider: {Type: String}
Conditions:
  NewBus: {Fn::Equals: [{Ref: Bus}, ""]}
  Reserves: {Fn::Not: [{Fn::Equals: [{Ref: Reserved}, 0]}]}
  Both: {Fn::And: [{Condition: NewBus}, {Condition: Reserves}]}
Resources:
  B: {Type: T, Condition: NewBus, Properties: {Name: {Ref: AWS::StackName}}}
  F:
    Type: T
    Properties:
      Bus: {Fn::If: [NewBus, {Fn::GetAtt: [B, Name]}, {Ref: Bus}]}
      Reserved: {Fn::If: [Reserves, {Ref: Reserved}, {Ref: AWS::NoValue}]}
      List: [a, {Fn::If: [Both, b, {Ref: AWS::NoValue}]}]
      Text: {Fn::Sub: "p ${Provider}"}
      Kept: {Fn::Sub: "p ${Provider} ${AWS::StackName}"}
Outputs:
  O: {Condition: Reserves, Value: {Ref: Reserved}}
"#,
    )
    .expect("YAML");
    let own = resolve(&template, &[("Provider", "github")]);
    let f = &own["Resources"]["F"]["Properties"];
    assert_eq!(
        own["Resources"]["B"]["Properties"]["Name"]["Ref"],
        "AWS::StackName"
    );
    assert!(own["Resources"]["B"].get("Condition").is_none());
    assert_eq!(f["Bus"]["Fn::GetAtt"][1], "Name");
    assert!(f.get("Reserved").is_none());
    assert_eq!(f["List"].as_sequence().map(Vec::len), Some(1));
    assert_eq!(f["Text"], "p github");
    assert_eq!(f["Kept"]["Fn::Sub"], "p github ${AWS::StackName}");
    assert!(own["Outputs"].get("O").is_none());
    assert!(own.get("Conditions").is_none());

    let other = resolve(
        &template,
        &[("Provider", "twilio"), ("Bus", "team"), ("Reserved", "3")],
    );
    let f = &other["Resources"]["F"]["Properties"];
    assert!(other["Resources"].get("B").is_none());
    assert_eq!(f["Bus"], "team");
    assert_eq!(f["Reserved"], 3);
    assert_eq!(f["List"].as_sequence().map(Vec::len), Some(1));
    assert_eq!(other["Outputs"]["O"]["Value"], 3);
}
