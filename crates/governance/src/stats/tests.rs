use super::*;

#[test]
fn average_ranks_share_ties() {
    assert_eq!(
        average_ranks(&[3.0, 1.0, 3.0, 2.0]),
        vec![3.5, 1.0, 3.5, 2.0]
    );
    assert_eq!(average_ranks(&[5.0, 5.0, 5.0]), vec![2.0, 2.0, 2.0]);
}

#[test]
fn ols_recovers_an_exact_plane_and_reports_zero_noise() {
    let x1 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let x2 = [2.0, -1.0, 0.5, 3.0, 1.0, 0.0];
    let y: Vec<f64> = x1
        .iter()
        .zip(&x2)
        .map(|(a, b)| 1.5 + 2.0 * a - 0.5 * b)
        .collect();
    let fit = ols(&y, &[("x1", &x1), ("x2", &x2)]).unwrap();
    assert!((fit.coefficients[0].estimate - 1.5).abs() < 1e-12);
    assert!((fit.coefficients[1].estimate - 2.0).abs() < 1e-12);
    assert!((fit.coefficients[2].estimate + 0.5).abs() < 1e-12);
    assert!((fit.r_squared - 1.0).abs() < 1e-12);
    assert_eq!(fit.df_resid, 3.0);
}

#[test]
fn ols_rejects_collinear_regressors() {
    let x1 = [1.0, 2.0, 3.0, 4.0, 5.0];
    let x2 = [2.0, 4.0, 6.0, 8.0, 10.0];
    let y = [1.0, 3.0, 2.0, 5.0, 4.0];
    assert!(matches!(
        ols(&y, &[("a", &x1), ("b", &x2)]),
        Err(StatsError::Singular { column: 2 })
    ));
}

#[test]
fn simple_ols_r_squared_is_pearson_r_squared() {
    let x = [0.3, 1.1, 2.0, 2.9, 4.2, 5.1, 5.8];
    let y = [1.0, 1.9, 2.2, 3.9, 4.1, 6.3, 5.9];
    let fit = ols(&y, &[("x", &x)]).unwrap();
    let r = pearson(&x, &y).unwrap();
    assert!((fit.r_squared - r.r * r.r).abs() < 1e-12);
    assert!((fit.f_p_value - r.p).abs() < 1e-12);
    assert!((fit.coefficients[1].p - r.p).abs() < 1e-12);
}

#[test]
fn entropy_weights_favour_the_uneven_column() {
    let rows = vec![vec![1.0, 0.0], vec![1.0, 0.1], vec![1.0, 1.0]];
    let (e, w) = entropy_weights(&rows).unwrap();
    assert!((e[0] - 1.0).abs() < 1e-12);
    assert!(w[1] > 0.99);
    assert!(matches!(
        entropy_weights(&[vec![0.0], vec![0.0]]),
        Err(StatsError::ZeroColumn { column: 0 })
    ));
}

#[test]
fn quantiles_interpolate_linearly() {
    let s = [1.0, 2.0, 4.0, 8.0];
    assert_eq!(quantile_sorted(&s, 0.0), 1.0);
    assert_eq!(quantile_sorted(&s, 1.0), 8.0);
    assert!((quantile_sorted(&s, 0.5) - 3.0).abs() < 1e-15);
}

#[test]
fn std_dev_states_its_ddof() {
    let xs = [1.0, 2.0, 3.0, 4.0];
    assert!((std_dev(&xs, Ddof::Population).unwrap() - 1.25_f64.sqrt()).abs() < 1e-15);
    assert!((std_dev(&xs, Ddof::Sample).unwrap() - (5.0_f64 / 3.0).sqrt()).abs() < 1e-15);
    assert!(std_dev(&[1.0], Ddof::Sample).is_err());
}
