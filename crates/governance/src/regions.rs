//! China's six macro-regions (六大区) and the provinces in each.

use serde::{Deserialize, Serialize};

/// One of the six macro-regions used by the evaluation report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MacroRegion {
    /// 华北: Beijing, Tianjin, Hebei, Shanxi, Inner Mongolia.
    NorthChina,
    /// 东北: Liaoning, Jilin, Heilongjiang.
    Northeast,
    /// 华东: Shanghai, Jiangsu, Zhejiang, Anhui, Fujian, Jiangxi, Shandong, Taiwan.
    EastChina,
    /// 中南: Henan, Hubei, Hunan, Guangdong, Guangxi, Hainan, Hong Kong, Macao.
    CentralSouth,
    /// 西南: Chongqing, Sichuan, Guizhou, Yunnan, Tibet.
    Southwest,
    /// 西北: Shaanxi, Gansu, Qinghai, Ningxia, Xinjiang.
    Northwest,
}

impl MacroRegion {
    /// All six, in the report's order.
    pub const ALL: [MacroRegion; 6] = [
        MacroRegion::NorthChina,
        MacroRegion::Northeast,
        MacroRegion::EastChina,
        MacroRegion::CentralSouth,
        MacroRegion::Southwest,
        MacroRegion::Northwest,
    ];

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            MacroRegion::NorthChina => "华北",
            MacroRegion::Northeast => "东北",
            MacroRegion::EastChina => "华东",
            MacroRegion::CentralSouth => "中南",
            MacroRegion::Southwest => "西南",
            MacroRegion::Northwest => "西北",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            MacroRegion::NorthChina => "North China",
            MacroRegion::Northeast => "Northeast",
            MacroRegion::EastChina => "East China",
            MacroRegion::CentralSouth => "Central-South",
            MacroRegion::Southwest => "Southwest",
            MacroRegion::Northwest => "Northwest",
        }
    }
}

/// `(Chinese short name, pinyin, region)` of each provincial-level division.
pub(crate) const PROVINCES: &[(&str, &str, MacroRegion)] = &[
    ("北京", "beijing", MacroRegion::NorthChina),
    ("天津", "tianjin", MacroRegion::NorthChina),
    ("河北", "hebei", MacroRegion::NorthChina),
    ("山西", "shanxi", MacroRegion::NorthChina),
    ("内蒙古", "inner mongolia", MacroRegion::NorthChina),
    ("辽宁", "liaoning", MacroRegion::Northeast),
    ("吉林", "jilin", MacroRegion::Northeast),
    ("黑龙江", "heilongjiang", MacroRegion::Northeast),
    ("上海", "shanghai", MacroRegion::EastChina),
    ("江苏", "jiangsu", MacroRegion::EastChina),
    ("浙江", "zhejiang", MacroRegion::EastChina),
    ("安徽", "anhui", MacroRegion::EastChina),
    ("福建", "fujian", MacroRegion::EastChina),
    ("江西", "jiangxi", MacroRegion::EastChina),
    ("山东", "shandong", MacroRegion::EastChina),
    ("台湾", "taiwan", MacroRegion::EastChina),
    ("河南", "henan", MacroRegion::CentralSouth),
    ("湖北", "hubei", MacroRegion::CentralSouth),
    ("湖南", "hunan", MacroRegion::CentralSouth),
    ("广东", "guangdong", MacroRegion::CentralSouth),
    ("广西", "guangxi", MacroRegion::CentralSouth),
    ("海南", "hainan", MacroRegion::CentralSouth),
    ("香港", "hong kong", MacroRegion::CentralSouth),
    ("澳门", "macao", MacroRegion::CentralSouth),
    ("重庆", "chongqing", MacroRegion::Southwest),
    ("四川", "sichuan", MacroRegion::Southwest),
    ("贵州", "guizhou", MacroRegion::Southwest),
    ("云南", "yunnan", MacroRegion::Southwest),
    ("西藏", "tibet", MacroRegion::Southwest),
    ("陕西", "shaanxi", MacroRegion::Northwest),
    ("甘肃", "gansu", MacroRegion::Northwest),
    ("青海", "qinghai", MacroRegion::Northwest),
    ("宁夏", "ningxia", MacroRegion::Northwest),
    ("新疆", "xinjiang", MacroRegion::Northwest),
];

/// The macro-region of a province given by Chinese name (`浙江`, `浙江省`,
/// `广西壮族自治区`) or pinyin (`Zhejiang`, case-insensitive).
pub fn macro_region(province: &str) -> Option<MacroRegion> {
    let p = province.trim();
    let lower = p.to_ascii_lowercase();
    PROVINCES
        .iter()
        .find(|(zh, py, _)| p.starts_with(zh) || lower == *py || lower == format!("{py} province"))
        .map(|(_, _, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_map_by_chinese_or_pinyin_name() {
        assert_eq!(macro_region("浙江省"), Some(MacroRegion::EastChina));
        assert_eq!(
            macro_region("广西壮族自治区"),
            Some(MacroRegion::CentralSouth)
        );
        assert_eq!(macro_region("Xinjiang"), Some(MacroRegion::Northwest));
        assert_eq!(macro_region("黑龙江"), Some(MacroRegion::Northeast));
        assert_eq!(macro_region("Atlantis"), None);
        let mut n = [0; 6];
        for (_, _, r) in PROVINCES {
            n[MacroRegion::ALL.iter().position(|x| x == r).unwrap()] += 1;
        }
        assert_eq!(n, [5, 3, 8, 8, 5, 5]);
    }
}
