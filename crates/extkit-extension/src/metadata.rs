//! `metadata.json`: its closed-world schema and the typed view the other rules use.
//!
//! Parsing is lenient on purpose: every part that has the right shape is kept, so that a typo
//! in one key does not hide the file checks of all the others. What does not fit is reported
//! as a [`Problem`] in the style of Docker's validator (`(root): additional property …`).

use serde_json::{Map, Value};

/// A host OS key of `host.binaries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostOs {
    /// macOS.
    Darwin,
    /// Windows.
    Windows,
    /// Linux.
    Linux,
}

impl HostOs {
    /// Every host OS, in the order `metadata.json` usually lists them.
    pub const ALL: [HostOs; 3] = [HostOs::Darwin, HostOs::Windows, HostOs::Linux];

    /// The key in `metadata.json`, which is also the OCI OS name.
    pub fn key(self) -> &'static str {
        match self {
            HostOs::Darwin => "darwin",
            HostOs::Windows => "windows",
            HostOs::Linux => "linux",
        }
    }

    fn from_key(key: &str) -> Option<HostOs> {
        HostOs::ALL.into_iter().find(|os| os.key() == key)
    }
}

/// One `{ "path": … }` entry of `host.binaries`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostBinary {
    /// The OS key it is listed under.
    pub os: HostOs,
    /// The path as written.
    pub path: String,
}

/// `ui.dashboard-tab`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DashboardTab {
    /// `title`: the tab's name in Desktop's sidebar.
    pub title: Option<String>,
    /// `root`: the UI folder.
    pub root: Option<String>,
    /// `src`: the entry file, relative to `root`.
    pub src: Option<String>,
    /// `backend.socket`.
    pub backend_socket: Option<String>,
}

/// `vm`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vm {
    /// `image`, usually `${DESKTOP_PLUGIN_IMAGE}`.
    pub image: Option<String>,
    /// `composefile`: a compose file in the image.
    pub composefile: Option<String>,
    /// `exposes.socket`.
    pub exposes_socket: Option<String>,
}

/// The parts of `metadata.json` the rules use, as far as they have the right shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `icon`: a file in the image.
    pub icon: Option<String>,
    /// `ui.dashboard-tab`.
    pub dashboard_tab: Option<DashboardTab>,
    /// `vm`.
    pub vm: Option<Vm>,
    /// Every host binary entry with a non-empty string path, in document order.
    pub binaries: Vec<HostBinary>,
}

/// Something in `metadata.json` that does not fit the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// What is wrong, starting with where, such as `(root): additional property `name` is
    /// not allowed`.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

/// Why `metadata.json` could not be read as an object at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// What is wrong, to follow the file's name: `is not valid JSON: …`.
    pub message: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "`metadata.json` {}", self.message)
    }
}

impl std::error::Error for Unreadable {}

/// Reads the typed view of `metadata.json`, leaving the schema problems to the validator.
pub fn parse_metadata(bytes: &[u8]) -> Result<Metadata, Unreadable> {
    parse(bytes).map(|(metadata, _problems)| metadata)
}

/// Reads `metadata.json`: the typed view plus every schema problem, or why it is not a JSON
/// object at all.
pub(crate) fn parse(bytes: &[u8]) -> Result<(Metadata, Vec<Problem>), Unreadable> {
    // serde_json's own message names the line and column of a syntax error.
    let value: Value = serde_json::from_slice(bytes).map_err(|error| Unreadable {
        message: format!("is not valid JSON: {error}"),
    })?;
    let Value::Object(root) = &value else {
        return Err(Unreadable {
            message: format!("holds {}, not a JSON object", type_name(&value)),
        });
    };

    let mut walker = Walker::default();
    let metadata = walker.root(root);
    Ok((metadata, walker.problems))
}

/// The keys each object may hold: the root rule of Docker's validator, applied at every level.
const ROOT_KEYS: &[&str] = &["icon", "ui", "vm", "host"];
const UI_KEYS: &[&str] = &["dashboard-tab"];
const DASHBOARD_TAB_KEYS: &[&str] = &["title", "root", "src", "backend"];
const BACKEND_KEYS: &[&str] = &["socket"];
const VM_KEYS: &[&str] = &["image", "composefile", "exposes"];
const EXPOSES_KEYS: &[&str] = &["socket"];
const HOST_KEYS: &[&str] = &["binaries"];
const BINARIES_ITEM_KEYS: &[&str] = &["darwin", "windows", "linux"];
const ENTRY_KEYS: &[&str] = &["path"];

const ROOT: &str = "(root)";

#[derive(Default)]
struct Walker {
    problems: Vec<Problem>,
}

impl Walker {
    fn root(&mut self, root: &Map<String, Value>) -> Metadata {
        self.known_keys(root, ROOT, ROOT_KEYS);

        let mut metadata = Metadata {
            icon: self.required_string(root, ROOT, "icon"),
            ..Metadata::default()
        };

        if !["ui", "vm", "host"]
            .iter()
            .any(|key| root.contains_key(*key))
        {
            self.problem(
                format!("{ROOT}: at least one of `ui`, `vm` and `host` is required"),
                Some("an extension needs a UI tab, a backend or host binaries".to_string()),
            );
        }

        if let Some(ui) = root.get("ui").and_then(|ui| self.object(ui, "ui", UI_KEYS)) {
            metadata.dashboard_tab = self.ui(ui);
        }
        if let Some(vm) = root.get("vm").and_then(|vm| self.object(vm, "vm", VM_KEYS)) {
            metadata.vm = Some(self.vm(vm));
        }
        if let Some(host) = root
            .get("host")
            .and_then(|host| self.object(host, "host", HOST_KEYS))
        {
            metadata.binaries = self.host(host);
        }
        metadata
    }

    fn ui(&mut self, ui: &Map<String, Value>) -> Option<DashboardTab> {
        let location = "ui.dashboard-tab";
        let Some(value) = ui.get("dashboard-tab") else {
            self.missing("ui", "dashboard-tab");
            return None;
        };
        let tab = self.object(value, location, DASHBOARD_TAB_KEYS)?;

        let title = self.required_string(tab, location, "title");
        let mut dashboard_tab = DashboardTab {
            title,
            root: self.required_string(tab, location, "root"),
            src: self.required_string(tab, location, "src"),
            backend_socket: None,
        };
        let backend_location = "ui.dashboard-tab.backend";
        if let Some(backend) = tab
            .get("backend")
            .and_then(|backend| self.object(backend, backend_location, BACKEND_KEYS))
        {
            dashboard_tab.backend_socket =
                self.required_string(backend, backend_location, "socket");
        }
        Some(dashboard_tab)
    }

    fn vm(&mut self, vm: &Map<String, Value>) -> Vm {
        let mut result = Vm {
            image: self.optional_string(vm, "vm", "image"),
            composefile: self.optional_string(vm, "vm", "composefile"),
            exposes_socket: None,
        };
        match (vm.contains_key("image"), vm.contains_key("composefile")) {
            (true, true) => self.problem(
                "vm: `image` and `composefile` are mutually exclusive".to_string(),
                Some(
                    "keep `composefile` and set the service's `image` in the compose file"
                        .to_string(),
                ),
            ),
            (false, false) => self.problem(
                "vm: one of `image` and `composefile` is required".to_string(),
                Some(
                    "set `\"image\": \"${DESKTOP_PLUGIN_IMAGE}\"` to run the extension image \
                    itself"
                        .to_string(),
                ),
            ),
            _ => {}
        }
        if let Some(exposes) = vm
            .get("exposes")
            .and_then(|exposes| self.object(exposes, "vm.exposes", EXPOSES_KEYS))
        {
            result.exposes_socket = self.required_string(exposes, "vm.exposes", "socket");
        }
        result
    }

    fn host(&mut self, host: &Map<String, Value>) -> Vec<HostBinary> {
        let mut binaries = Vec::new();
        let Some(list) = host.get("binaries") else {
            self.missing("host", "binaries");
            return binaries;
        };
        let Some(items) = self.array(list, "host.binaries") else {
            return binaries;
        };
        for (index, item) in items.iter().enumerate() {
            let item_location = format!("host.binaries.{index}");
            let Some(item) = self.object(item, &item_location, BINARIES_ITEM_KEYS) else {
                continue;
            };
            for (key, entries) in item {
                let Some(os) = HostOs::from_key(key) else {
                    continue;
                };
                let os_location = format!("{item_location}.{key}");
                let Some(entries) = self.array(entries, &os_location) else {
                    continue;
                };
                for (position, entry) in entries.iter().enumerate() {
                    let entry_location = format!("{os_location}.{position}");
                    let Some(entry) = self.object(entry, &entry_location, ENTRY_KEYS) else {
                        continue;
                    };
                    if let Some(path) = self.required_string(entry, &entry_location, "path") {
                        binaries.push(HostBinary { os, path });
                    }
                }
            }
        }
        binaries
    }

    /// `value` as an object whose keys are all in `allowed`.
    fn object<'a>(
        &mut self,
        value: &'a Value,
        location: &str,
        allowed: &[&str],
    ) -> Option<&'a Map<String, Value>> {
        let Value::Object(map) = value else {
            self.wrong_type(location, "an object", value);
            return None;
        };
        self.known_keys(map, location, allowed);
        Some(map)
    }

    fn array<'a>(&mut self, value: &'a Value, location: &str) -> Option<&'a Vec<Value>> {
        let Value::Array(items) = value else {
            self.wrong_type(location, "an array", value);
            return None;
        };
        Some(items)
    }

    fn known_keys(&mut self, map: &Map<String, Value>, location: &str, allowed: &[&str]) {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let hint = obsolete_key_hint(location, key).unwrap_or_else(|| {
                    format!(
                        "remove it; `{location}` may hold only {}",
                        allowed
                            .iter()
                            .map(|key| format!("`{key}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                });
                self.problem(
                    format!("{location}: additional property `{key}` is not allowed"),
                    Some(hint),
                );
            }
        }
    }

    /// A string that must be present and not blank.
    fn required_string(
        &mut self,
        map: &Map<String, Value>,
        location: &str,
        key: &str,
    ) -> Option<String> {
        if !map.contains_key(key) {
            self.missing(location, key);
            return None;
        }
        self.optional_string(map, location, key)
    }

    /// A string that may be absent but, when present, is not blank.
    fn optional_string(
        &mut self,
        map: &Map<String, Value>,
        location: &str,
        key: &str,
    ) -> Option<String> {
        let value = map.get(key)?;
        let field = child(location, key);
        let Value::String(text) = value else {
            self.wrong_type(&field, "a string", value);
            return None;
        };
        if text.trim().is_empty() {
            self.problem(format!("{field}: must not be empty"), None);
            return None;
        }
        Some(text.clone())
    }

    fn missing(&mut self, location: &str, key: &str) {
        self.problem(format!("{location}: `{key}` is required"), None);
    }

    fn wrong_type(&mut self, location: &str, expected: &str, found: &Value) {
        self.problem(
            format!(
                "{location}: expected {expected}, found {}",
                type_name(found)
            ),
            None,
        );
    }

    fn problem(&mut self, message: String, hint: Option<String>) {
        self.problems.push(Problem { message, hint });
    }
}

/// `location.key`, or just `key` at the root.
fn child(location: &str, key: &str) -> String {
    if location == ROOT {
        key.to_string()
    } else {
        format!("{location}.{key}")
    }
}

/// What to do instead of a key that Desktop once read and no longer does.
fn obsolete_key_hint(location: &str, key: &str) -> Option<String> {
    let hint = match (location, key) {
        (ROOT, "name") => {
            "remove it; the extension's name comes from the `org.opencontainers.image.title` label"
        }
        (ROOT, "provider") => {
            "remove it; the publisher comes from the `org.opencontainers.image.vendor` label"
        }
        ("vm.exposes", "host-socket" | "named-pipe") => {
            "remove it; Desktop derives the host side from `socket` since 2021"
        }
        _ => return None,
    };
    Some(hint.to_string())
}

/// A JSON value's type with its article, for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(json: &str) -> Vec<String> {
        let (_, problems) = parse(json.as_bytes()).unwrap();
        problems
            .into_iter()
            .map(|problem| problem.message)
            .collect()
    }

    #[test]
    fn the_canonical_shape_has_no_problem() {
        let json = r#"{ "icon": "docker.svg",
          "vm": { "composefile": "docker-compose.yaml", "exposes": { "socket": "backend.sock" } },
          "ui": { "dashboard-tab": { "title": "My Ext", "src": "index.html", "root": "ui",
                  "backend": { "socket": "backend.sock" } } } }"#;
        let (metadata, problems) = parse(json.as_bytes()).unwrap();
        assert_eq!(problems, Vec::<Problem>::new());
        assert_eq!(metadata.icon.as_deref(), Some("docker.svg"));
        let vm = metadata.vm.unwrap();
        assert_eq!(vm.composefile.as_deref(), Some("docker-compose.yaml"));
        assert_eq!(vm.exposes_socket.as_deref(), Some("backend.sock"));
        let tab = metadata.dashboard_tab.unwrap();
        assert_eq!(tab.root.as_deref(), Some("ui"));
        assert_eq!(tab.backend_socket.as_deref(), Some("backend.sock"));
    }

    #[test]
    fn unknown_keys_are_refused_at_every_level() {
        let json = r#"{ "icon": "a.svg", "name": "x",
          "vm": { "image": "i", "isolation": "x", "exposes": { "socket": "s", "named-pipe": "p" } },
          "host": { "binaries": [ { "macos": [], "linux": [ { "path": "/l", "mode": 1 } ] } ] } }"#;
        assert_eq!(
            problems(json),
            [
                "(root): additional property `name` is not allowed",
                "vm: additional property `isolation` is not allowed",
                "vm.exposes: additional property `named-pipe` is not allowed",
                "host.binaries.0: additional property `macos` is not allowed",
                "host.binaries.0.linux.0: additional property `mode` is not allowed",
            ]
        );
    }

    #[test]
    fn wrong_types_and_missing_fields_are_named_by_location() {
        let json = r#"{ "ui": { "dashboard-tab": { "title": 3, "src": "" } },
          "host": { "binaries": { "linux": [] } } }"#;
        assert_eq!(
            problems(json),
            [
                "(root): `icon` is required",
                "ui.dashboard-tab.title: expected a string, found a number",
                "ui.dashboard-tab: `root` is required",
                "ui.dashboard-tab.src: must not be empty",
                "host.binaries: expected an array, found an object",
            ]
        );
    }

    #[test]
    fn an_extension_needs_a_component_and_a_vm_one_source() {
        assert_eq!(
            problems(r#"{ "icon": "a.svg" }"#),
            ["(root): at least one of `ui`, `vm` and `host` is required"]
        );
        assert_eq!(
            problems(r#"{ "icon": "a.svg", "vm": { "image": "a", "composefile": "b" } }"#),
            ["vm: `image` and `composefile` are mutually exclusive"]
        );
        assert_eq!(
            problems(r#"{ "icon": "a.svg", "vm": {} }"#),
            ["vm: one of `image` and `composefile` is required"]
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let error = parse(b"{\n  \"icon\": \"a.svg\",\n}").unwrap_err();
        assert_eq!(
            error.message,
            "is not valid JSON: trailing comma at line 3 column 1"
        );
        let error = parse(b"[1]").unwrap_err();
        assert_eq!(error.message, "holds an array, not a JSON object");
    }

    #[test]
    fn host_binaries_keep_document_order() {
        let json = r#"{ "icon": "a.svg", "host": { "binaries": [
          { "darwin": [ { "path": "/darwin/a" } ], "linux": [ { "path": "/linux/a" } ] },
          { "windows": [ { "path": "/windows/a.exe" } ] } ] } }"#;
        let (metadata, problems) = parse(json.as_bytes()).unwrap();
        assert!(problems.is_empty());
        assert_eq!(
            metadata.binaries,
            [
                HostBinary {
                    os: HostOs::Darwin,
                    path: "/darwin/a".to_string()
                },
                HostBinary {
                    os: HostOs::Linux,
                    path: "/linux/a".to_string()
                },
                HostBinary {
                    os: HostOs::Windows,
                    path: "/windows/a.exe".to_string()
                },
            ]
        );
    }
}
