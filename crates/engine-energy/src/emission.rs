//! Grid emission factors: a dated, versioned table with sources.
//!
//! The factors are the average CO₂ emitted per kWh of electricity consumed
//! from a grid, for accounting purchased electricity. The table's contract
//! (identifiers, units, update rules) is in `docs/specs/emission-factors.md`.

use serde::Serialize;

/// Version of [`EMISSION_FACTORS`]: the publication date of its newest entry.
/// Bump it whenever an entry is added or changed; identifiers never change meaning.
pub const EMISSION_TABLE_VERSION: &str = "2024-12-20";

/// One grid emission factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmissionFactor {
    /// Stable identifier, `CN-<year>-<region>`.
    pub id: &'static str,
    /// Grid or province, in English and Chinese.
    pub region: &'static str,
    /// Year of the electricity the factor describes.
    pub year: u16,
    /// kg CO₂ per kWh.
    pub kg_per_kwh: f64,
    /// What the factor covers.
    pub scope: &'static str,
    /// Publication the value comes from.
    pub source: &'static str,
    /// Publication date (ISO 8601).
    pub published: &'static str,
}

const MEE_2022: &str = "Ministry of Ecology and Environment and National Bureau of Statistics of China, \
     Announcement on the 2022 electricity CO2 emission factors (关于发布2022年电力二氧化碳排放因子的公告)";
const MEE_2021: &str = "Ministry of Ecology and Environment and National Bureau of Statistics of China, \
     Announcement on the 2021 electricity CO2 emission factors (公告2024年第12号)";
const AVG: &str = "average factor of electricity consumed (location based)";

macro_rules! ef {
    ($id:expr, $region:expr, $year:expr, $v:expr, $scope:expr, $src:expr, $date:expr) => {
        EmissionFactor {
            id: $id,
            region: $region,
            year: $year,
            kg_per_kwh: $v,
            scope: $scope,
            source: $src,
            published: $date,
        }
    };
}

/// The table, national first, then the regional grids, then provinces.
pub const EMISSION_FACTORS: &[EmissionFactor] = &[
    ef!(
        "CN-2022-national",
        "China national grid 全国",
        2022,
        0.5366,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-national-excl-market-nonfossil",
        "China national grid 全国 (excluding market-traded non-fossil electricity)",
        2022,
        0.5856,
        "average factor excluding non-fossil electricity bought in market trading",
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-fossil",
        "China national fossil generation 全国化石能源电力",
        2022,
        0.8325,
        "fossil-fuel generation only",
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-north",
        "North China grid 华北",
        2022,
        0.6776,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-northeast",
        "Northeast China grid 东北",
        2022,
        0.5564,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-east",
        "East China grid 华东",
        2022,
        0.5617,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-central",
        "Central China grid 华中",
        2022,
        0.5395,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-northwest",
        "Northwest China grid 西北",
        2022,
        0.5857,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-south",
        "China Southern grid 南方",
        2022,
        0.3869,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-southwest",
        "Southwest China grid 西南",
        2022,
        0.2268,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-hebei",
        "Hebei 河北",
        2022,
        0.7252,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-shanxi",
        "Shanxi 山西",
        2022,
        0.7096,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-tianjin",
        "Tianjin 天津",
        2022,
        0.7041,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-inner-mongolia",
        "Inner Mongolia 内蒙古",
        2022,
        0.6849,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-anhui",
        "Anhui 安徽",
        2022,
        0.6782,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-fujian",
        "Fujian 福建",
        2022,
        0.4092,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-guangxi",
        "Guangxi 广西",
        2022,
        0.4044,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-qinghai",
        "Qinghai 青海",
        2022,
        0.1567,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-sichuan",
        "Sichuan 四川",
        2022,
        0.1404,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2022-yunnan",
        "Yunnan 云南",
        2022,
        0.1073,
        AVG,
        MEE_2022,
        "2024-12-20"
    ),
    ef!(
        "CN-2021-national",
        "China national grid 全国",
        2021,
        0.5568,
        AVG,
        MEE_2021,
        "2024-04"
    ),
    ef!(
        "CN-2021-fossil",
        "China national fossil generation 全国化石能源电力",
        2021,
        0.8426,
        "fossil-fuel generation only",
        MEE_2021,
        "2024-04"
    ),
];

/// The factor with identifier `id`.
pub fn emission_factor(id: &str) -> Option<&'static EmissionFactor> {
    EMISSION_FACTORS.iter().find(|f| f.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_unique_and_values_plausible() {
        let mut ids: Vec<&str> = EMISSION_FACTORS.iter().map(|f| f.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), EMISSION_FACTORS.len());
        assert!(
            EMISSION_FACTORS
                .iter()
                .all(|f| f.kg_per_kwh > 0.05 && f.kg_per_kwh < 1.2)
        );
        assert!(
            EMISSION_FACTORS
                .iter()
                .all(|f| f.published <= EMISSION_TABLE_VERSION)
        );
        assert_eq!(
            emission_factor("CN-2022-national").map(|f| f.kg_per_kwh),
            Some(0.5366)
        );
        assert!(emission_factor("CN-2099-mars").is_none());
    }
}
