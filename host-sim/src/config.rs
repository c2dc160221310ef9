//! Experiment configurations as the user writes them: a TOML file and `--set key=value` overrides,
//! merged over the experiment's default configuration, then checked by deserialising into the
//! experiment's typed `Config`.
//!
//! The layers, later winning: the experiment's default `Config` serialised to a TOML table, the
//! `--config` file, each `--set` in order, `--seed`, and in a sweep the point's `--grid` values. A `--set` value is parsed as
//! a TOML value (`8`, `0.5`, `true`, `"text"`, `[1, 2]`); if it does not parse, it is taken as a bare
//! string, so `--set weights.rounding=stochastic` works. Dotted keys address nested tables.
//! Unknown keys are refused by the typed `Config` (`serde(deny_unknown_fields)`), whose error names
//! the key and lists the valid ones.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::Path;

/// Why a command could not start (or finish writing): printed as one `error: …` line.
#[derive(Debug)]
pub enum Error {
    /// Bad command-line usage (unknown experiment, malformed `--set`, bad `--shard`, …).
    Usage(String),
    /// A configuration that does not deserialise (unknown key, wrong type, malformed TOML).
    Config(String),
    /// A configuration the experiment's constructor refused (value out of range).
    Model(engram::ConfigError),
    /// A file or folder that could not be read or written.
    Io(String, std::io::Error),
    /// Processor in the loop: the board or the link failed (silent board, protocol or model
    /// mismatch, refused message).
    Link(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Config(m) | Error::Link(m) => f.write_str(m),
            Error::Model(e) => write!(f, "{e}"),
            Error::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl From<engram::ConfigError> for Error {
    fn from(e: engram::ConfigError) -> Error {
        Error::Model(e)
    }
}

/// Wraps an I/O error with what was being done.
pub fn io<T>(what: impl FnOnce() -> String, r: std::io::Result<T>) -> Result<T, Error> {
    r.map_err(|e| Error::Io(what(), e))
}

/// One `key=value` override, the value already parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Dotted key path (`weights.bits`).
    pub key: String,
    /// The value.
    pub value: toml::Value,
}

impl Override {
    /// Parses `key=value` (see the module doc for how the value is read).
    pub fn parse(s: &str) -> Result<Override, Error> {
        let (key, value) = s
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("`{s}` is not of the form key=value")))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(Error::Usage(format!("`{s}`: empty key")));
        }
        Ok(Override {
            key: key.to_string(),
            value: parse_value(value.trim()),
        })
    }

    /// The value as text (TOML syntax; strings without quotes), for file names and CSV cells.
    pub fn value_text(&self) -> String {
        value_text(&self.value)
    }
}

/// A value as text: TOML syntax, strings bare.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A TOML value, or the text itself as a string if it is not one.
pub fn parse_value(text: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {text}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(text.into())),
        Err(_) => toml::Value::String(text.to_string()),
    }
}

/// Reads a TOML file as a table.
pub fn read_file(path: &Path) -> Result<toml::Table, Error> {
    let text = io(
        || format!("cannot read config {}", path.display()),
        std::fs::read_to_string(path),
    )?;
    toml::from_str(&text).map_err(|e| {
        Error::Config(format!(
            "malformed TOML in {}: {}",
            path.display(),
            e.message()
        ))
    })
}

/// Sets `key` (dotted) in `table` to `value`, creating intermediate tables.
pub fn set(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), Error> {
    let mut parts = key.split('.').peekable();
    let mut t = table;
    while let Some(k) = parts.next() {
        if parts.peek().is_none() {
            t.insert(k.to_string(), value);
            return Ok(());
        }
        let entry = t
            .entry(k.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = match entry {
            toml::Value::Table(inner) => inner,
            _ => {
                return Err(Error::Config(format!(
                    "`{key}`: `{k}` is a value, not a table of settings"
                )));
            }
        };
    }
    Ok(())
}

/// Merges `over` into `base`: tables recursively, anything else replaced.
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// A configuration as a TOML table. `f32` fields are written as their shortest decimal (`0.1`,
/// not `0.10000000149011612`) when that reads back to the same `f32`, so files and `summary.json`
/// show what the user would write.
pub fn to_table<C: Serialize>(cfg: &C) -> toml::Table {
    // A `Config` of plain numbers, bools, enums, arrays and nested structs always serialises.
    let mut t = toml::Table::try_from(cfg).unwrap_or_default();
    for (_, v) in t.iter_mut() {
        tidy(v);
    }
    t
}

fn tidy(v: &mut toml::Value) {
    match v {
        toml::Value::Float(x) => {
            let f = *x as f32;
            if f as f64 == *x
                && let Ok(short) = format!("{f}").parse::<f64>()
                && short as f32 == f
            {
                *x = short;
            }
        }
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| tidy(v)),
        toml::Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// Deserialises a merged table into the experiment's typed configuration.
pub fn typed<C: DeserializeOwned>(table: &toml::Table) -> Result<C, Error> {
    toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| {
            Error::Config(format!("configuration: {}", e.message().trim()))
        })
}

/// The user's layers over a default table: file, overrides, seed.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// The `--config` file's table.
    pub file: Option<toml::Table>,
    /// `--set` overrides, in order.
    pub sets: Vec<Override>,
    /// `--seed`.
    pub seed: Option<u64>,
}

impl Layers {
    /// `base` with the layers applied, then `extra` (a sweep point's grid values, which so win over
    /// `--set` and `--seed`: `--grid seed=1,2,3` sweeps seeds).
    pub fn apply(&self, mut base: toml::Table, extra: &[Override]) -> Result<toml::Table, Error> {
        if let Some(f) = &self.file {
            merge(&mut base, f);
        }
        for o in &self.sets {
            set(&mut base, &o.key, o.value.clone())?;
        }
        if let Some(seed) = self.seed {
            base.insert("seed".into(), toml::Value::Integer(seed as i64));
        }
        for o in extra {
            set(&mut base, &o.key, o.value.clone())?;
        }
        Ok(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_toml_or_bare_strings() {
        assert_eq!(parse_value("8"), toml::Value::Integer(8));
        assert_eq!(parse_value("0.5"), toml::Value::Float(0.5));
        assert_eq!(
            parse_value("stochastic"),
            toml::Value::String("stochastic".into())
        );
        assert_eq!(parse_value("\"x y\""), toml::Value::String("x y".into()));
        assert!(matches!(parse_value("[1, 2]"), toml::Value::Array(a) if a.len() == 2));
    }

    #[test]
    fn dotted_set_merges_into_nested_tables() {
        let mut t: toml::Table =
            toml::from_str("a = 1\n[w]\nbits = 16\nrounding = \"nearest\"").unwrap();
        set(&mut t, "w.bits", toml::Value::Integer(8)).unwrap();
        assert_eq!(t["w"]["bits"].as_integer(), Some(8));
        assert_eq!(t["w"]["rounding"].as_str(), Some("nearest"));
        assert!(set(&mut t, "a.b", toml::Value::Integer(1)).is_err());
    }
}
