use extkit_extension::Severity::{Error, Warning};

use crate::support::*;

const COMPOSE_PATH: &str = "/docker-compose.yaml";

fn with_compose(compose: &str) -> extkit_extension::Report {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant
            .files
            .insert(COMPOSE_PATH.to_string(), text_file(compose));
    });
    check(&facts)
}

#[test]
fn a_compose_file_without_services_is_invalid() {
    assert_baseline_clean("compose-invalid");
    let report = with_compose("version: '3'\nvolumes:\n  data:\n");
    assert_eq!(
        summaries(&report),
        [expect("compose-invalid", Error, None, Some(COMPOSE_PATH))]
    );
    assert_eq!(
        report.findings[0].message,
        "the compose file `/docker-compose.yaml` is not usable: it has no `services`"
    );
}

#[test]
fn a_compose_file_that_is_not_yaml_gives_line_and_column() {
    let report = with_compose("services:\n  hello:\n    image: [\n");
    assert_eq!(
        summaries(&report),
        [expect("compose-invalid", Error, None, Some(COMPOSE_PATH))]
    );
    assert_eq!(
        report.findings[0].message,
        "the compose file `/docker-compose.yaml` is not usable: it is not valid YAML: while parsing a node, did not find expected node content at line 4 column 1"
    );
}

#[test]
fn the_extension_image_without_a_command_would_exit() {
    assert_baseline_clean("backend-without-command");
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| variant.has_command = false);
    let report = check(&facts);
    assert_eq!(
        summaries(&report),
        [expect(
            "backend-without-command",
            Warning,
            None,
            Some(COMPOSE_PATH)
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the service `hello` runs the extension image, which has no `CMD` or `ENTRYPOINT`, so the backend would exit at once"
    );
}

#[test]
fn a_service_with_its_own_command_needs_none_from_the_image() {
    let mut facts = valid_image();
    each_variant(&mut facts, |variant| {
        variant.has_command = false;
        variant.files.insert(
            COMPOSE_PATH.to_string(),
            text_file("services:\n  hello:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [sleep, infinity]\n"),
        );
    });
    assert_eq!(summaries(&check(&facts)), []);
}

#[test]
fn vm_image_without_a_command_would_exit_too() {
    let mut facts = valid_image();
    set_metadata(
        &mut facts,
        &METADATA.replace(
            r#""composefile": "docker-compose.yaml""#,
            r#""image": "${DESKTOP_PLUGIN_IMAGE}""#,
        ),
    );
    assert_eq!(summaries(&check(&facts)), []);
    each_variant(&mut facts, |variant| variant.has_command = false);
    assert_eq!(
        summaries(&check(&facts)),
        [expect(
            "backend-without-command",
            Warning,
            None,
            Some("/metadata.json")
        )]
    );
}

#[test]
fn mounting_the_host_docker_socket_is_a_warning() {
    assert_baseline_clean("compose-docker-socket");
    let report = with_compose(
        "services:\n  hello:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n",
    );
    assert_eq!(
        summaries(&report),
        [expect(
            "compose-docker-socket",
            Warning,
            None,
            Some(COMPOSE_PATH)
        )]
    );
    assert_eq!(
        report.findings[0].hint.as_deref(),
        Some("mount `/var/run/docker.sock.raw:/var/run/docker.sock`, the VM's own Docker socket")
    );
}

#[test]
fn a_relative_bind_is_a_warning_and_a_named_volume_is_not() {
    assert_baseline_clean("compose-relative-bind");
    let report = with_compose(
        "services:\n  hello:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    volumes:\n      - data:/data\n      - ./config:/config:ro\n      - $HOME/.kube:/root/.kube\nvolumes:\n  data:\n",
    );
    assert_eq!(
        summaries(&report),
        [expect(
            "compose-relative-bind",
            Warning,
            None,
            Some(COMPOSE_PATH)
        )]
    );
    assert_eq!(
        report.findings[0].message,
        "the service `hello` binds the relative host path `./config`, which resolves inside Docker Desktop's extension folder"
    );
}
