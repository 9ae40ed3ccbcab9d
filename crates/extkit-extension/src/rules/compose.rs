//! Rules about the backend: the compose file and the image it runs.

use crate::catalogue::ids;
use crate::compose::{self, PLUGIN_IMAGE};
use crate::input::FileFacts;
use crate::report::Finding;
use crate::rules::metadata::METADATA_PATH;

/// Every finding about the compose file at `path`.
pub(crate) fn check_file(path: &str, file: &FileFacts, image_has_command: bool) -> Vec<Finding> {
    let Some(content) = &file.content else {
        return vec![Finding::new(
            ids::COMPOSE_INVALID,
            Some(path),
            format!("the compose file `{path}` could not be read"),
        )];
    };
    let compose = match compose::parse(content) {
        Ok(compose) => compose,
        Err(reason) => {
            return vec![
                Finding::new(
                    ids::COMPOSE_INVALID,
                    Some(path),
                    format!("the compose file `{path}` is not usable: {reason}"),
                )
                .hint(format!(
                    "a backend needs at least `services: {{backend: {{image: {PLUGIN_IMAGE}}}}}`"
                )),
            ];
        }
    };

    let mut findings = Vec::new();
    for service in &compose.services {
        let name = &service.name;
        let runs_extension_image = service
            .image
            .as_deref()
            .is_some_and(compose::is_plugin_image);
        if runs_extension_image && !service.has_command && !image_has_command {
            findings.push(
                Finding::new(
                    ids::BACKEND_WITHOUT_COMMAND,
                    Some(path),
                    format!(
                        "the service `{name}` runs the extension image, which has no `CMD` or \
                            `ENTRYPOINT`, so the backend would exit at once"
                    ),
                )
                .hint(
                    "add a long-running `CMD` to the Dockerfile, such as `CMD /service -socket \
                    /run/guest-services/backend.sock`",
                ),
            );
        }
        for source in &service.bind_sources {
            if compose::is_docker_socket(source) {
                findings.push(
                    Finding::new(
                        ids::COMPOSE_DOCKER_SOCKET,
                        Some(path),
                        format!("the service `{name}` mounts `{source}`"),
                    )
                    .hint(
                        "mount `/var/run/docker.sock.raw:/var/run/docker.sock`, the VM's own \
                        Docker socket",
                    ),
                );
            } else if compose::is_relative_bind(source) {
                findings.push(
                    Finding::new(
                        ids::COMPOSE_RELATIVE_BIND,
                        Some(path),
                        format!(
                            "the service `{name}` binds the relative host path `{source}`, which \
                                resolves inside Docker Desktop's extension folder"
                        ),
                    )
                    .hint("use a named volume, or an absolute or `~` path"),
                );
            }
        }
    }
    findings
}

/// The finding about `vm.image`, when it runs the extension image without a command.
pub(crate) fn check_vm_image(image: &str, image_has_command: bool) -> Option<Finding> {
    (compose::is_plugin_image(image) && !image_has_command).then(|| {
        Finding::new(
            ids::BACKEND_WITHOUT_COMMAND,
            Some(METADATA_PATH),
            format!(
                "`vm.image` is `{image}`, but the extension image has no `CMD` or `ENTRYPOINT`, \
                    so the backend would exit at once"
            ),
        )
        .hint(
            "add a long-running `CMD` to the Dockerfile, such as `CMD /service -socket \
            /run/guest-services/backend.sock`",
        )
    })
}
