//! Every fixture built by a real toolchain gives the exact format, OS, architectures and
//! details, through all three entry points.

mod support;

use std::io::Cursor;

use extkit_binfmt::{
    BinaryInfo, Details, Format, Linking, Os, Subsystem, inspect_bytes, inspect_path,
    inspect_reader,
};
use support::{BINARY_FIXTURES, TEXT_FIXTURES, fixture, fixture_path};

/// What one fixture must report.
struct Expected {
    name: &'static str,
    format: Format,
    os: Option<Os>,
    architectures: &'static [&'static str],
    linking: Option<Linking>,
    interpreter: Option<&'static str>,
    min_macos: Option<&'static str>,
    subsystem: Option<Subsystem>,
}

impl Expected {
    fn info(&self) -> BinaryInfo {
        BinaryInfo {
            format: self.format,
            os: self.os,
            architectures: self
                .architectures
                .iter()
                .map(|name| name.to_string())
                .collect(),
            details: Details {
                linking: self.linking,
                interpreter: self.interpreter.map(str::to_owned),
                min_macos: self.min_macos.map(str::to_owned),
                subsystem: self.subsystem,
            },
        }
    }
}

const fn elf(name: &'static str, architectures: &'static [&'static str]) -> Expected {
    Expected {
        name,
        format: Format::Elf,
        os: Some(Os::Linux),
        architectures,
        linking: Some(Linking::Static),
        interpreter: None,
        min_macos: None,
        subsystem: None,
    }
}

const fn pe(
    name: &'static str,
    architectures: &'static [&'static str],
    subsystem: Subsystem,
) -> Expected {
    Expected {
        name,
        format: Format::Pe,
        os: Some(Os::Windows),
        architectures,
        linking: None,
        interpreter: None,
        min_macos: None,
        subsystem: Some(subsystem),
    }
}

const fn mach_o(
    name: &'static str,
    format: Format,
    architectures: &'static [&'static str],
    min_macos: &'static str,
) -> Expected {
    Expected {
        name,
        format,
        os: Some(Os::Darwin),
        architectures,
        linking: None,
        interpreter: None,
        min_macos: Some(min_macos),
        subsystem: None,
    }
}

const fn text(
    name: &'static str,
    format: Format,
    os: Os,
    interpreter: Option<&'static str>,
) -> Expected {
    Expected {
        name,
        format,
        os: Some(os),
        architectures: &[],
        linking: None,
        interpreter,
        min_macos: None,
        subsystem: None,
    }
}

const EXPECTED: &[Expected] = &[
    elf("hello-linux-amd64", &["amd64"]),
    Expected {
        linking: Some(Linking::Dynamic),
        interpreter: Some("/lib64/ld-linux-x86-64.so.2"),
        ..elf("hello-linux-amd64-dynamic", &["amd64"])
    },
    elf("hello-linux-arm64", &["arm64"]),
    elf("hello-linux-armv7", &["arm/v7"]),
    elf("hello-linux-armv6", &["arm/v6"]),
    elf("hello-linux-386", &["386"]),
    mach_o("hello-darwin-amd64", Format::MachO, &["amd64"], "10.13"),
    mach_o("hello-darwin-arm64", Format::MachO, &["arm64"], "11.0"),
    mach_o(
        "hello-darwin-universal",
        Format::MachOUniversal,
        &["amd64", "arm64"],
        "10.13",
    ),
    pe("hello-windows-amd64.exe", &["amd64"], Subsystem::Console),
    pe("hello-windows-arm64.exe", &["arm64"], Subsystem::Console),
    pe("hello-windows-arm64-gui.exe", &["arm64"], Subsystem::Gui),
    text("hello.sh", Format::Script, Os::Any, Some("/bin/sh")),
    text("hello.cmd", Format::WindowsScript, Os::Windows, None),
    text("hello.ps1", Format::WindowsScript, Os::Windows, None),
];

#[test]
fn the_table_covers_every_fixture() {
    let covered: Vec<&str> = EXPECTED.iter().map(|expected| expected.name).collect();
    for name in BINARY_FIXTURES.iter().chain(TEXT_FIXTURES) {
        assert!(covered.contains(name), "{name} has no expected values");
    }
}

#[test]
fn every_fixture_gives_its_exact_values_from_a_path() {
    for expected in EXPECTED {
        let info = inspect_path(&fixture_path(expected.name)).expect(expected.name);
        assert_eq!(info, expected.info(), "{}", expected.name);
    }
}

#[test]
fn every_fixture_gives_the_same_values_from_bytes_and_from_a_reader() {
    for expected in EXPECTED {
        let bytes = fixture(expected.name);
        let from_bytes = inspect_bytes(&bytes, Some(expected.name));
        let from_reader = inspect_reader(Cursor::new(&bytes), Some(expected.name)).unwrap();
        assert_eq!(from_bytes, expected.info(), "{}", expected.name);
        assert_eq!(from_reader, expected.info(), "{}", expected.name);
    }
}

#[test]
fn windows_scripts_need_their_file_name() {
    let bytes = fixture("hello.cmd");
    assert_eq!(inspect_bytes(&bytes, None).format, Format::Unknown);
    assert_eq!(
        inspect_bytes(&bytes, Some("HELLO.BAT")).format,
        Format::WindowsScript
    );
}

#[test]
fn binaries_keep_their_format_whatever_their_name() {
    let bytes = fixture("hello-linux-amd64");
    let info = inspect_bytes(&bytes, Some("setup.cmd"));
    assert_eq!(info.format, Format::Elf);
}

#[test]
fn json_uses_the_documented_names_and_keeps_null_fields() {
    let info = inspect_path(&fixture_path("hello-darwin-universal")).unwrap();
    let json = serde_json::to_string(&info).unwrap();
    assert_eq!(
        json,
        r#"{"format":"mach-o-universal","os":"darwin","architectures":["amd64","arm64"],"details":{"linking":null,"interpreter":null,"min_macos":"10.13","subsystem":null}}"#
    );

    let unknown = serde_json::to_value(inspect_bytes(b"plain text", None)).unwrap();
    assert_eq!(
        unknown,
        serde_json::json!({
            "format": "unknown",
            "os": null,
            "architectures": [],
            "details": {"linking": null, "interpreter": null, "min_macos": null, "subsystem": null}
        })
    );

    let names: Vec<String> = [
        Format::Elf,
        Format::MachO,
        Format::MachOUniversal,
        Format::Pe,
        Format::Script,
        Format::WindowsScript,
        Format::Unknown,
    ]
    .iter()
    .map(|format| {
        let json = serde_json::to_string(format).unwrap();
        assert_eq!(json, format!("\"{format}\""), "Display and serde agree");
        json
    })
    .collect();
    assert_eq!(
        names.join(","),
        r#""elf","mach-o","mach-o-universal","pe","script","windows-script","unknown""#
    );
    assert_eq!(serde_json::to_string(&Os::Any).unwrap(), r#""any""#);
}
