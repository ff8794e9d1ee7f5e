//! Names of the upstream providers and of the kinds of product a reseller sells.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of the three upstream providers the product knows. Stored in SQLite by [`ProviderId::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum ProviderId {
    Dingyin,
    Oper,
    Juhe,
}

/// What is being topped up. Decides which fields an order needs and which provider is the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum ProductKind {
    /// 话费
    Phone,
    /// 电费 (dingyin: 国网 / 南网)
    Electricity,
    /// 游戏
    Game,
    /// 抖币
    Douyin,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的{what}“{value}” / unknown {what_en} “{value}”")]
pub struct ParseIdError {
    what: &'static str,
    what_en: &'static str,
    value: String,
}

impl ProviderId {
    pub const ALL: [ProviderId; 3] = [ProviderId::Dingyin, ProviderId::Oper, ProviderId::Juhe];

    pub const fn as_str(self) -> &'static str {
        match self {
            ProviderId::Dingyin => "dingyin",
            ProviderId::Oper => "oper",
            ProviderId::Juhe => "juhe",
        }
    }

    /// The provider's Chinese display name.
    pub const fn label_zh(self) -> &'static str {
        match self {
            ProviderId::Dingyin => "鼎音",
            ProviderId::Oper => "上游运营商",
            ProviderId::Juhe => "聚合数据",
        }
    }

    /// What each provider sells, from its document.
    pub const fn sells(self, kind: ProductKind) -> bool {
        match self {
            ProviderId::Dingyin => true,
            ProviderId::Oper | ProviderId::Juhe => matches!(kind, ProductKind::Phone),
        }
    }
}

impl ProductKind {
    pub const ALL: [ProductKind; 4] =
        [ProductKind::Phone, ProductKind::Electricity, ProductKind::Game, ProductKind::Douyin];

    pub const fn as_str(self) -> &'static str {
        match self {
            ProductKind::Phone => "phone",
            ProductKind::Electricity => "electricity",
            ProductKind::Game => "game",
            ProductKind::Douyin => "douyin",
        }
    }

    pub const fn label_zh(self) -> &'static str {
        match self {
            ProductKind::Phone => "话费",
            ProductKind::Electricity => "电费",
            ProductKind::Game => "游戏",
            ProductKind::Douyin => "抖币",
        }
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ProductKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProviderId::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseIdError { what: "供应商", what_en: "provider", value: s.to_owned() })
    }
}

impl FromStr for ProductKind {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProductKind::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            ParseIdError { what: "产品类型", what_en: "product kind", value: s.to_owned() }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for p in ProviderId::ALL {
            assert_eq!(p.as_str().parse::<ProviderId>(), Ok(p));
        }
        for k in ProductKind::ALL {
            assert_eq!(k.as_str().parse::<ProductKind>(), Ok(k));
        }
        let err = "alipay".parse::<ProviderId>().unwrap_err().to_string();
        assert!(err.contains("alipay") && err.contains("供应商"), "{err}");
    }
}
