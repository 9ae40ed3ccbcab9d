//! The image configuration a stage builds up: `Env`, `Cmd`, `Labels`… in the OCI `config`
//! object, inherited from the base image and changed by each instruction.

use serde_json::{Map, Value, json};

/// The `PATH` Docker gives images built from nothing.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The `config` object of an image configuration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Config {
    fields: Map<String, Value>,
}

impl Config {
    /// The configuration of a stage built from nothing: only the default `PATH`.
    pub fn scratch() -> Config {
        let mut fields = Map::new();
        fields.insert("Env".into(), json!([format!("PATH={DEFAULT_PATH}")]));
        Config { fields }
    }

    /// The configuration inherited from a base image's configuration document. `OnBuild`
    /// triggers are not inherited.
    pub fn inherit(document: &Value) -> Config {
        let mut fields = document
            .get("config")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        fields.remove("OnBuild");
        // Fields a base image stores as `null` are as good as absent.
        fields.retain(|_, value| !value.is_null());
        if !fields.contains_key("Env") {
            fields.insert("Env".into(), json!([format!("PATH={DEFAULT_PATH}")]));
        }
        Config { fields }
    }

    /// The base image's trigger instructions, which need running.
    pub fn triggers(document: &Value) -> Vec<String> {
        document["config"]["OnBuild"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The environment as pairs, in order.
    pub fn env(&self) -> Vec<(String, String)> {
        self.strings("Env")
            .into_iter()
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) => (key.to_string(), value.to_string()),
                None => (pair, String::new()),
            })
            .collect()
    }

    /// Sets an environment variable, in place when it is already there.
    pub fn set_env(&mut self, key: &str, value: &str) {
        let mut env = self.strings("Env");
        let entry = format!("{key}={value}");
        match env
            .iter_mut()
            .find(|pair| pair.split_once('=').map_or(pair.as_str(), |(k, _)| k) == key)
        {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
        self.fields.insert("Env".into(), json!(env));
    }

    /// The bytes the environment and labels take, keys and values.
    pub fn variables_len(&self) -> usize {
        let env: usize = self.strings("Env").iter().map(String::len).sum();
        let labels: usize =
            self.fields
                .get("Labels")
                .and_then(Value::as_object)
                .map_or(0, |labels| {
                    labels
                        .iter()
                        .map(|(key, value)| key.len() + value.as_str().map_or(0, str::len))
                        .sum()
                });
        env + labels
    }

    /// Adds or replaces a label.
    pub fn set_label(&mut self, key: &str, value: &str) {
        self.object("Labels").insert(key.into(), json!(value));
    }

    /// Adds an exposed port such as `80/tcp`.
    pub fn expose(&mut self, port: &str) {
        self.object("ExposedPorts").insert(port.into(), json!({}));
    }

    /// Adds a volume.
    pub fn add_volume(&mut self, path: &str) {
        self.object("Volumes").insert(path.into(), json!({}));
    }

    /// Adds an `ONBUILD` trigger.
    pub fn add_trigger(&mut self, instruction: &str) {
        let mut triggers = self.strings("OnBuild");
        triggers.push(instruction.into());
        self.fields.insert("OnBuild".into(), json!(triggers));
    }

    /// Sets a field to a string, such as `WorkingDir` or `User`.
    pub fn set_string(&mut self, field: &str, value: &str) {
        self.fields.insert(field.into(), json!(value));
    }

    /// A string field.
    pub fn string(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    /// Sets a field to a list of strings, such as `Cmd`.
    pub fn set_strings(&mut self, field: &str, value: &[String]) {
        self.fields.insert(field.into(), json!(value));
    }

    /// Removes a field.
    pub fn remove(&mut self, field: &str) {
        self.fields.remove(field);
    }

    /// Sets a field to any value, such as `Healthcheck`.
    pub fn set_value(&mut self, field: &str, value: Value) {
        self.fields.insert(field.into(), value);
    }

    /// A list-of-strings field, empty when absent.
    pub fn strings(&self, field: &str) -> Vec<String> {
        self.fields
            .get(field)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The shell for shell-form commands.
    pub fn shell(&self) -> Vec<String> {
        let shell = self.strings("Shell");
        if shell.is_empty() {
            vec!["/bin/sh".into(), "-c".into()]
        } else {
            shell
        }
    }

    /// The object as stored in the image configuration.
    pub fn to_value(&self) -> Value {
        Value::Object(self.fields.clone())
    }

    fn object(&mut self, field: &str) -> &mut Map<String, Value> {
        let slot = self
            .fields
            .entry(field.to_string())
            .or_insert_with(|| json!({}));
        if !slot.is_object() {
            *slot = json!({});
        }
        slot.as_object_mut().expect("just made an object")
    }
}

/// Parses a Go duration such as `30s`, `1m30s` or `500ms` into nanoseconds.
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    if text == "0" {
        return Some(0);
    }
    let mut total: f64 = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_end == 0 {
            return None;
        }
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_end..];
    }
    Some(total as u64)
}

/// The ports an `EXPOSE` word stands for: `80` → `80/tcp`, `53/udp`, `8000-8002` → three.
pub(crate) fn ports(word: &str) -> Result<Vec<String>, String> {
    let (range, protocol) = match word.split_once('/') {
        Some((range, protocol)) => (range, protocol.to_lowercase()),
        None => (word, "tcp".to_string()),
    };
    if !["tcp", "udp", "sctp"].contains(&protocol.as_str()) {
        return Err(format!("`{word}` has an unknown protocol `{protocol}`"));
    }
    let bad = || format!("`{word}` is not a port or a range of ports");
    let (first, last) = match range.split_once('-') {
        Some((first, last)) => (
            first.parse::<u16>().map_err(|_| bad())?,
            last.parse::<u16>().map_err(|_| bad())?,
        ),
        None => {
            let port = range.parse::<u16>().map_err(|_| bad())?;
            (port, port)
        }
    };
    if last < first {
        return Err(bad());
    }
    Ok((first..=last)
        .map(|port| format!("{port}/{protocol}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_has_the_default_path_and_env_replaces_in_place() {
        let mut config = Config::scratch();
        config.set_env("A", "1");
        config.set_env("PATH", "/bin");
        assert_eq!(config.strings("Env"), vec!["PATH=/bin", "A=1"]);
    }

    #[test]
    fn inheriting_drops_triggers_and_nulls() {
        let document = json!({"config": {"Cmd": ["sh"], "OnBuild": ["RUN x"], "Entrypoint": null, "Env": ["A=1"]}});
        let config = Config::inherit(&document);
        assert_eq!(config.to_value(), json!({"Cmd": ["sh"], "Env": ["A=1"]}));
        assert_eq!(Config::triggers(&document), vec!["RUN x"]);
    }

    #[test]
    fn durations_and_ports() {
        assert_eq!(parse_duration("30s"), Some(30_000_000_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_duration("500ms"), Some(500_000_000));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(ports("80").unwrap(), vec!["80/tcp"]);
        assert_eq!(ports("53/UDP").unwrap(), vec!["53/udp"]);
        assert_eq!(
            ports("8000-8002").unwrap(),
            vec!["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert!(ports("http").is_err());
    }
}
