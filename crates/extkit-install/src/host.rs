use std::fmt;
use std::str::FromStr;

use extkit_oci::Platform;

use crate::InstallError;

/// A Desktop user's machine: its OS (`darwin`, `windows`, `linux`) and CPU (`amd64`, `arm64`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// `darwin`, `windows` or `linux`.
    pub os: String,
    /// `amd64` or `arm64`.
    pub architecture: String,
}

impl Host {
    /// This machine.
    pub fn current() -> Host {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        Host {
            os: os.to_string(),
            architecture: architecture.to_string(),
        }
    }

    /// The image platform Desktop pulls on this host: always Linux, for the host's CPU.
    pub fn image_platform(&self) -> Platform {
        Platform::new("linux", &self.architecture, None)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)
    }
}

impl FromStr for Host {
    type Err = InstallError;

    fn from_str(text: &str) -> Result<Self, InstallError> {
        let invalid = |reason: &str| InstallError::InvalidHost {
            host: text.to_string(),
            reason: reason.to_string(),
        };
        let platform: Platform = text.parse().map_err(|_| invalid("it is not `OS/ARCH`"))?;
        if !["darwin", "windows", "linux"].contains(&platform.os.as_str()) {
            return Err(invalid("Docker Desktop runs on darwin, windows and linux"));
        }
        if !["amd64", "arm64"].contains(&platform.architecture.as_str())
            || platform.variant.is_some()
        {
            return Err(invalid("Docker Desktop runs on amd64 and arm64"));
        }
        Ok(Host {
            os: platform.os,
            architecture: platform.architecture,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_and_normalise() {
        let host: Host = "macos/aarch64".parse().unwrap();
        assert_eq!(host.to_string(), "darwin/arm64");
        assert_eq!(host.image_platform().to_string(), "linux/arm64");
        for bad in ["darwin", "freebsd/amd64", "linux/riscv64", "linux/arm/v7"] {
            assert!(bad.parse::<Host>().is_err(), "{bad}");
        }
    }
}
