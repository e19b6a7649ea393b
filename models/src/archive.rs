//! Reading single members out of downloaded archives: Python wheels (zip) and sdists (tar.gz).
//! Members are streamed into a writer so large model files never sit whole in memory.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::Path;

use flate2::read::GzDecoder;

use crate::manifest::ArchiveFormat;

/// Why a member could not be read from an archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot open archive {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error(
        "{path} is not a readable zip archive: {source}; the download is probably damaged, delete it and fetch again"
    )]
    Zip {
        path: String,
        source: zip::result::ZipError,
    },
    #[error(
        "member `{member}` is not in archive {path}; the manifest names the wrong path or the package changed"
    )]
    MissingMember { path: String, member: String },
    #[error("reading member `{member}` of {path} failed: {source}")]
    Read {
        path: String,
        member: String,
        source: io::Error,
    },
}

/// Copies archive member `member` into `out`; returns the number of bytes written.
pub fn extract_member(
    archive: &Path,
    format: ArchiveFormat,
    member: &str,
    out: &mut dyn Write,
) -> Result<u64, ArchiveError> {
    let path = archive.display().to_string();
    let file = File::open(archive).map_err(|source| ArchiveError::Open {
        path: path.clone(),
        source,
    })?;
    let read_err = |source| ArchiveError::Read {
        path: path.clone(),
        member: member.to_string(),
        source,
    };
    match format {
        ArchiveFormat::Zip => {
            let mut zip =
                zip::ZipArchive::new(BufReader::new(file)).map_err(|source| ArchiveError::Zip {
                    path: path.clone(),
                    source,
                })?;
            let mut entry = match zip.by_name(member) {
                Ok(entry) => entry,
                Err(zip::result::ZipError::FileNotFound) => {
                    return Err(ArchiveError::MissingMember {
                        path: path.clone(),
                        member: member.to_string(),
                    });
                }
                Err(source) => {
                    return Err(ArchiveError::Zip {
                        path: path.clone(),
                        source,
                    });
                }
            };
            io::copy(&mut entry, out).map_err(read_err)
        }
        ArchiveFormat::TarGz => {
            let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
            for entry in tar.entries().map_err(read_err)? {
                let mut entry = entry.map_err(read_err)?;
                let matches = entry
                    .path()
                    .map_err(read_err)?
                    .to_str()
                    .is_some_and(|p| p == member);
                if matches {
                    return io::copy(&mut entry, out).map_err(read_err);
                }
            }
            Err(ArchiveError::MissingMember {
                path,
                member: member.to_string(),
            })
        }
    }
}

/// Reads a (small) archive member into memory.
pub fn read_member(
    archive: &Path,
    format: ArchiveFormat,
    member: &str,
) -> Result<Vec<u8>, ArchiveError> {
    let mut bytes = Vec::new();
    extract_member(archive, format, member, &mut bytes)?;
    Ok(bytes)
}

/// Reads a member and appends it to `bytes` (for models split across archives).
pub fn append_member(
    archive: &Path,
    format: ArchiveFormat,
    member: &str,
    bytes: &mut Vec<u8>,
) -> Result<u64, ArchiveError> {
    extract_member(archive, format, member, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use zip::write::SimpleFileOptions;

    fn make_zip(path: &Path) {
        let file = File::create(path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let deflated =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("pkg/data/model.bin", deflated).unwrap();
        zip.write_all(&[7u8; 5000]).unwrap();
        zip.start_file("pkg/__init__.py", SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"# empty").unwrap();
        zip.finish().unwrap();
    }

    fn make_tar_gz(path: &Path) {
        let file = File::create(path).unwrap();
        let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::default()));
        for (name, data) in [
            ("pkg-1.0/setup.py", b"setup()".as_slice()),
            ("pkg-1.0/pkg/assets/vocab.txt", b"a 0\nb 1\n".as_slice()),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn extracts_deflated_zip_member() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.whl");
        make_zip(&path);
        let bytes = read_member(&path, ArchiveFormat::Zip, "pkg/data/model.bin").unwrap();
        assert_eq!(bytes, vec![7u8; 5000]);
        let init = read_member(&path, ArchiveFormat::Zip, "pkg/__init__.py").unwrap();
        assert_eq!(init, b"# empty");
    }

    #[test]
    fn extracts_tar_gz_member() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.tar.gz");
        make_tar_gz(&path);
        let bytes =
            read_member(&path, ArchiveFormat::TarGz, "pkg-1.0/pkg/assets/vocab.txt").unwrap();
        assert_eq!(bytes, b"a 0\nb 1\n");
    }

    #[test]
    fn missing_member_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("p.whl");
        make_zip(&zip_path);
        let err = read_member(&zip_path, ArchiveFormat::Zip, "pkg/nope.bin").unwrap_err();
        assert!(
            matches!(err, ArchiveError::MissingMember { ref member, .. } if member == "pkg/nope.bin")
        );
        let tar_path = dir.path().join("p.tar.gz");
        make_tar_gz(&tar_path);
        let err = read_member(&tar_path, ArchiveFormat::TarGz, "pkg/assets/vocab.txt").unwrap_err();
        assert!(err.to_string().contains("pkg/assets/vocab.txt"));
    }

    #[test]
    fn damaged_zip_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.whl");
        std::fs::write(&path, b"not a zip at all").unwrap();
        let err = read_member(&path, ArchiveFormat::Zip, "x").unwrap_err();
        assert!(matches!(err, ArchiveError::Zip { .. }));
    }
}
