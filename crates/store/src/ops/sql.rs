//! The SQL of [`super`], the same on both backends: the macro expands it once
//! per backend with that backend's concrete sqlx types. Placeholders are `$N`,
//! which SQLite also reads as positional parameters; documents are text.

macro_rules! ops_sql {
    ($DB:ty, $Pool:ty, $BEGIN:expr) => {
        use domain::Timestamp;
        use sqlx::{QueryBuilder, Row};

        use crate::Error;
        use crate::ops::{
            AlarmRecord, AuditRecord, IncidentFilter, IncidentRecord, IndicatorInputRecord,
            IndicatorSample, NgsiEntityRecord, RuleRecord, SubscriptionRecord, TokenRow,
            cell_col, cell_from_col, id_col, json_text, parse_doc,
        };
        use crate::row::{clean, count};

        type DbRow = <$DB as sqlx::Database>::Row;

        fn q(op: &'static str) -> impl Fn(sqlx::Error) -> Error {
            move |source| Error::Query { op, source }
        }

        fn uid(v: i64, what: &'static str) -> Result<u64, Error> {
            u64::try_from(v).map_err(|_| Error::corrupt(what, v.to_string()))
        }

        fn get<'r, T>(row: &'r DbRow, col: &str, op: &'static str) -> Result<T, Error>
        where
            T: sqlx::Decode<'r, $DB> + sqlx::Type<$DB>,
        {
            row.try_get(col).map_err(q(op))
        }

        fn limit_of(limit: u32) -> i64 {
            if limit == 0 { i64::MAX } else { i64::from(limit) }
        }

        fn offset_of(offset: u64) -> i64 {
            i64::try_from(offset).unwrap_or(i64::MAX)
        }

        // ----- alarm rules -----

        fn rule_of(row: &DbRow) -> Result<RuleRecord, Error> {
            const OP: &str = "alarm_rules";
            Ok(RuleRecord {
                id: uid(get(row, "id", OP)?, "rule id")?,
                enabled: get(row, "enabled", OP)?,
                updated_at: Timestamp(get(row, "updated_ms", OP)?),
                doc: parse_doc("alarm rule", &get::<String>(row, "doc", OP)?)?,
            })
        }

        pub(crate) async fn alarm_rules(pool: &$Pool) -> Result<Vec<RuleRecord>, Error> {
            sqlx::query("SELECT id, enabled, updated_ms, doc FROM alarm_rules ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(q("alarm_rules"))?
                .iter()
                .map(rule_of)
                .collect()
        }

        pub(crate) async fn upsert_alarm_rule(pool: &$Pool, r: &RuleRecord) -> Result<(), Error> {
            sqlx::query(
                "INSERT INTO alarm_rules (id, enabled, updated_ms, doc) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, \
                 updated_ms = excluded.updated_ms, doc = excluded.doc",
            )
            .bind(id_col(r.id, "rule id")?)
            .bind(r.enabled)
            .bind(r.updated_at.0)
            .bind(json_text(&r.doc))
            .execute(pool)
            .await
            .map_err(q("upsert_alarm_rule"))?;
            Ok(())
        }

        pub(crate) async fn delete_alarm_rule(pool: &$Pool, id: i64) -> Result<bool, Error> {
            let r = sqlx::query("DELETE FROM alarm_rules WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map_err(q("delete_alarm_rule"))?;
            Ok(r.rows_affected() > 0)
        }

        // ----- alarms and incidents -----

        fn alarm_of(row: &DbRow) -> Result<AlarmRecord, Error> {
            const OP: &str = "alarms";
            Ok(AlarmRecord {
                id: uid(get(row, "id", OP)?, "alarm id")?,
                rule_id: uid(get(row, "rule_id", OP)?, "rule id")?,
                state: get(row, "state", OP)?,
                opened_at: Timestamp(get(row, "opened_ms", OP)?),
                cleared_at: get::<Option<i64>>(row, "cleared_ms", OP)?.map(Timestamp),
                incident_id: get::<Option<i64>>(row, "incident_id", OP)?
                    .map(|v| uid(v, "incident id"))
                    .transpose()?,
                doc: parse_doc("alarm", &get::<String>(row, "doc", OP)?)?,
            })
        }

        fn incident_of(row: &DbRow) -> Result<IncidentRecord, Error> {
            const OP: &str = "incidents";
            Ok(IncidentRecord {
                id: uid(get(row, "id", OP)?, "incident id")?,
                state: get(row, "state", OP)?,
                community: get(row, "community", OP)?,
                cell: get::<Option<i64>>(row, "cell", OP)?.map(cell_from_col),
                created_at: Timestamp(get(row, "created_ms", OP)?),
                sla_due: Timestamp(get(row, "sla_due_ms", OP)?),
                updated_at: Timestamp(get(row, "updated_ms", OP)?),
                doc: parse_doc("incident", &get::<String>(row, "doc", OP)?)?,
            })
        }

        pub(crate) async fn save_ops(
            pool: &$Pool,
            alarms: &[AlarmRecord],
            incidents: &[IncidentRecord],
        ) -> Result<(), Error> {
            const OP: &str = "save_ops";
            let mut tx = pool.begin_with($BEGIN).await.map_err(q(OP))?;
            for a in alarms {
                sqlx::query(
                    "INSERT INTO alarms (id, rule_id, state, opened_ms, cleared_ms, incident_id, doc) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
                     rule_id = excluded.rule_id, state = excluded.state, opened_ms = excluded.opened_ms, \
                     cleared_ms = excluded.cleared_ms, incident_id = excluded.incident_id, doc = excluded.doc",
                )
                .bind(id_col(a.id, "alarm id")?)
                .bind(id_col(a.rule_id, "rule id")?)
                .bind(clean(&a.state).into_owned())
                .bind(a.opened_at.0)
                .bind(a.cleared_at.map(|t| t.0))
                .bind(a.incident_id.map(|i| id_col(i, "incident id")).transpose()?)
                .bind(json_text(&a.doc))
                .execute(&mut *tx)
                .await
                .map_err(q(OP))?;
            }
            for i in incidents {
                sqlx::query(
                    "INSERT INTO incidents (id, state, community, cell, created_ms, sla_due_ms, updated_ms, doc) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET \
                     state = excluded.state, community = excluded.community, cell = excluded.cell, \
                     created_ms = excluded.created_ms, sla_due_ms = excluded.sla_due_ms, \
                     updated_ms = excluded.updated_ms, doc = excluded.doc",
                )
                .bind(id_col(i.id, "incident id")?)
                .bind(clean(&i.state).into_owned())
                .bind(i.community.as_deref().map(|c| clean(c).into_owned()))
                .bind(i.cell.map(cell_col))
                .bind(i.created_at.0)
                .bind(i.sla_due.0)
                .bind(i.updated_at.0)
                .bind(json_text(&i.doc))
                .execute(&mut *tx)
                .await
                .map_err(q(OP))?;
            }
            tx.commit().await.map_err(q(OP))
        }

        pub(crate) async fn alarms(
            pool: &$Pool,
            state: Option<&str>,
            limit: u32,
            offset: u64,
        ) -> Result<Vec<AlarmRecord>, Error> {
            let mut qb = QueryBuilder::<$DB>::new(
                "SELECT id, rule_id, state, opened_ms, cleared_ms, incident_id, doc FROM alarms",
            );
            match state {
                Some("active") => {
                    qb.push(" WHERE state <> 'cleared'");
                }
                Some(s) => {
                    qb.push(" WHERE state = ").push_bind(s.to_owned());
                }
                None => {}
            }
            qb.push(" ORDER BY opened_ms DESC, id DESC LIMIT ")
                .push_bind(limit_of(limit))
                .push(" OFFSET ")
                .push_bind(offset_of(offset));
            qb.build()
                .fetch_all(pool)
                .await
                .map_err(q("alarms"))?
                .iter()
                .map(alarm_of)
                .collect()
        }

        pub(crate) async fn alarm(pool: &$Pool, id: i64) -> Result<Option<AlarmRecord>, Error> {
            sqlx::query(
                "SELECT id, rule_id, state, opened_ms, cleared_ms, incident_id, doc FROM alarms WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(q("alarm"))?
            .as_ref()
            .map(alarm_of)
            .transpose()
        }

        pub(crate) async fn max_id(pool: &$Pool, table: &'static str) -> Result<u64, Error> {
            let sql = match table {
                "alarms" => "SELECT COALESCE(MAX(id), 0) FROM alarms",
                _ => "SELECT COALESCE(MAX(id), 0) FROM incidents",
            };
            let n: i64 = sqlx::query_scalar(sql)
                .fetch_one(pool)
                .await
                .map_err(q("max_id"))?;
            Ok(count(n))
        }

        pub(crate) async fn incident(
            pool: &$Pool,
            id: i64,
        ) -> Result<Option<IncidentRecord>, Error> {
            sqlx::query(
                "SELECT id, state, community, cell, created_ms, sla_due_ms, updated_ms, doc \
                 FROM incidents WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(q("incident"))?
            .as_ref()
            .map(incident_of)
            .transpose()
        }

        /// The matching rows, or only their count.
        pub(crate) async fn incidents(
            pool: &$Pool,
            f: &IncidentFilter,
            count_only: bool,
        ) -> Result<(Vec<IncidentRecord>, u64), Error> {
            let mut qb = QueryBuilder::<$DB>::new(if count_only {
                "SELECT COUNT(*) FROM incidents WHERE 1 = 1"
            } else {
                "SELECT id, state, community, cell, created_ms, sla_due_ms, updated_ms, doc \
                 FROM incidents WHERE 1 = 1"
            });
            if !f.states.is_empty() {
                qb.push(" AND state IN (");
                let mut sep = qb.separated(", ");
                for s in &f.states {
                    sep.push_bind(s.clone());
                }
                sep.push_unseparated(")");
            }
            if f.open_only {
                qb.push(" AND state NOT IN ('RESOLVED', 'CLOSED')");
            }
            if let Some(c) = &f.community {
                qb.push(" AND community = ").push_bind(c.clone());
            }
            if let Some(t) = f.created_from {
                qb.push(" AND created_ms >= ").push_bind(t.0);
            }
            if let Some(t) = f.created_to {
                qb.push(" AND created_ms < ").push_bind(t.0);
            }
            if count_only {
                let n: i64 = qb
                    .build_query_scalar()
                    .fetch_one(pool)
                    .await
                    .map_err(q("incident_count"))?;
                return Ok((Vec::new(), count(n)));
            }
            qb.push(" ORDER BY created_ms DESC, id DESC LIMIT ")
                .push_bind(limit_of(f.limit))
                .push(" OFFSET ")
                .push_bind(offset_of(f.offset));
            let rows = qb
                .build()
                .fetch_all(pool)
                .await
                .map_err(q("incidents"))?
                .iter()
                .map(incident_of)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((rows, 0))
        }

        // ----- API tokens -----

        pub(crate) async fn api_tokens(pool: &$Pool) -> Result<Vec<TokenRow>, Error> {
            const OP: &str = "api_tokens";
            sqlx::query(
                "SELECT id, name, role, scope, hash, revoked, created_ms FROM api_tokens ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .iter()
            .map(|row| {
                Ok(TokenRow {
                    id: get(row, "id", OP)?,
                    name: get(row, "name", OP)?,
                    role: get(row, "role", OP)?,
                    scope: parse_doc("token scope", &get::<String>(row, "scope", OP)?)?,
                    hash: get(row, "hash", OP)?,
                    revoked: get(row, "revoked", OP)?,
                    created_at: Timestamp(get(row, "created_ms", OP)?),
                })
            })
            .collect()
        }

        pub(crate) async fn upsert_api_tokens(pool: &$Pool, rows: &[TokenRow]) -> Result<(), Error> {
            const OP: &str = "upsert_api_tokens";
            let mut tx = pool.begin_with($BEGIN).await.map_err(q(OP))?;
            for t in rows {
                sqlx::query(
                    "INSERT INTO api_tokens (id, name, role, scope, hash, revoked, created_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
                     name = excluded.name, role = excluded.role, scope = excluded.scope, \
                     hash = excluded.hash, revoked = excluded.revoked",
                )
                .bind(clean(&t.id).into_owned())
                .bind(clean(&t.name).into_owned())
                .bind(clean(&t.role).into_owned())
                .bind(json_text(&t.scope))
                .bind(t.hash.clone())
                .bind(t.revoked)
                .bind(t.created_at.0)
                .execute(&mut *tx)
                .await
                .map_err(q(OP))?;
            }
            tx.commit().await.map_err(q(OP))
        }

        pub(crate) async fn revoke_api_token(pool: &$Pool, id: &str) -> Result<bool, Error> {
            let r = sqlx::query("UPDATE api_tokens SET revoked = $1 WHERE id = $2")
                .bind(true)
                .bind(id.to_owned())
                .execute(pool)
                .await
                .map_err(q("revoke_api_token"))?;
            Ok(r.rows_affected() > 0)
        }

        // ----- audit log -----

        pub(crate) async fn append_audit(pool: &$Pool, a: &AuditRecord) -> Result<i64, Error> {
            sqlx::query_scalar(
                "INSERT INTO audit_log (ts_ms, principal, method, path, status, entity, request_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(a.at.0)
            .bind(clean(&a.principal).into_owned())
            .bind(clean(&a.method).into_owned())
            .bind(clean(&a.path).into_owned())
            .bind(i64::from(a.status))
            .bind(a.entity.as_deref().map(|e| clean(e).into_owned()))
            .bind(a.request_id.as_deref().map(|e| clean(e).into_owned()))
            .fetch_one(pool)
            .await
            .map_err(q("append_audit"))
        }

        pub(crate) async fn audit_log(
            pool: &$Pool,
            limit: u32,
            offset: u64,
        ) -> Result<Vec<AuditRecord>, Error> {
            const OP: &str = "audit_log";
            sqlx::query(
                "SELECT id, ts_ms, principal, method, path, status, entity, request_id \
                 FROM audit_log ORDER BY id DESC LIMIT $1 OFFSET $2",
            )
            .bind(limit_of(limit))
            .bind(offset_of(offset))
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .iter()
            .map(|row| {
                let status: i64 = get(row, "status", OP)?;
                Ok(AuditRecord {
                    id: get(row, "id", OP)?,
                    at: Timestamp(get(row, "ts_ms", OP)?),
                    principal: get(row, "principal", OP)?,
                    method: get(row, "method", OP)?,
                    path: get(row, "path", OP)?,
                    status: u16::try_from(status)
                        .map_err(|_| Error::corrupt("audit status", status.to_string()))?,
                    entity: get(row, "entity", OP)?,
                    request_id: get(row, "request_id", OP)?,
                })
            })
            .collect()
        }

        // ----- NGSI-LD entities and subscriptions -----

        fn ngsi_of(row: &DbRow) -> Result<NgsiEntityRecord, Error> {
            const OP: &str = "ngsi_entities";
            Ok(NgsiEntityRecord {
                id: get(row, "id", OP)?,
                entity_type: get(row, "type", OP)?,
                location: get(row, "location", OP)?,
                created_at: Timestamp(get(row, "created_ms", OP)?),
                modified_at: Timestamp(get(row, "modified_ms", OP)?),
                doc: parse_doc("ngsi entity", &get::<String>(row, "doc", OP)?)?,
            })
        }

        pub(crate) async fn ngsi_entity(
            pool: &$Pool,
            id: &str,
        ) -> Result<Option<NgsiEntityRecord>, Error> {
            sqlx::query(
                "SELECT id, type, location, created_ms, modified_ms, doc FROM ngsi_entities WHERE id = $1",
            )
            .bind(id.to_owned())
            .fetch_optional(pool)
            .await
            .map_err(q("ngsi_entity"))?
            .as_ref()
            .map(ngsi_of)
            .transpose()
        }

        pub(crate) async fn ngsi_entities(
            pool: &$Pool,
            types: &[String],
        ) -> Result<Vec<NgsiEntityRecord>, Error> {
            let mut qb = QueryBuilder::<$DB>::new(
                "SELECT id, type, location, created_ms, modified_ms, doc FROM ngsi_entities",
            );
            if !types.is_empty() {
                qb.push(" WHERE type IN (");
                let mut sep = qb.separated(", ");
                for t in types {
                    sep.push_bind(t.clone());
                }
                sep.push_unseparated(")");
            }
            qb.push(" ORDER BY id");
            qb.build()
                .fetch_all(pool)
                .await
                .map_err(q("ngsi_entities"))?
                .iter()
                .map(ngsi_of)
                .collect()
        }

        const NGSI_INSERT: &str = "INSERT INTO ngsi_entities (id, type, location, created_ms, modified_ms, doc) \
             VALUES ($1, $2, $3, $4, $5, $6)";

        pub(crate) async fn insert_ngsi_entity(
            pool: &$Pool,
            r: &NgsiEntityRecord,
        ) -> Result<bool, Error> {
            let sql = format!("{NGSI_INSERT} ON CONFLICT (id) DO NOTHING");
            let res = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(clean(&r.id).into_owned())
                .bind(clean(&r.entity_type).into_owned())
                .bind(r.location.as_deref().map(|l| clean(l).into_owned()))
                .bind(r.created_at.0)
                .bind(r.modified_at.0)
                .bind(json_text(&r.doc))
                .execute(pool)
                .await
                .map_err(q("insert_ngsi_entity"))?;
            Ok(res.rows_affected() > 0)
        }

        pub(crate) async fn upsert_ngsi_entities(
            pool: &$Pool,
            recs: &[NgsiEntityRecord],
        ) -> Result<(), Error> {
            const OP: &str = "upsert_ngsi_entities";
            let sql = format!(
                "{NGSI_INSERT} ON CONFLICT (id) DO UPDATE SET type = excluded.type, \
                 location = excluded.location, modified_ms = excluded.modified_ms, doc = excluded.doc"
            );
            let mut tx = pool.begin_with($BEGIN).await.map_err(q(OP))?;
            for r in recs {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(clean(&r.id).into_owned())
                    .bind(clean(&r.entity_type).into_owned())
                    .bind(r.location.as_deref().map(|l| clean(l).into_owned()))
                    .bind(r.created_at.0)
                    .bind(r.modified_at.0)
                    .bind(json_text(&r.doc))
                    .execute(&mut *tx)
                    .await
                    .map_err(q(OP))?;
            }
            tx.commit().await.map_err(q(OP))
        }

        pub(crate) async fn delete_by_text_id(
            pool: &$Pool,
            table: &'static str,
            id: &str,
        ) -> Result<bool, Error> {
            let sql = match table {
                "ngsi_entities" => "DELETE FROM ngsi_entities WHERE id = $1",
                _ => "DELETE FROM ngsi_subscriptions WHERE id = $1",
            };
            let r = sqlx::query(sql)
                .bind(id.to_owned())
                .execute(pool)
                .await
                .map_err(q("delete"))?;
            Ok(r.rows_affected() > 0)
        }

        pub(crate) async fn subscriptions(pool: &$Pool) -> Result<Vec<SubscriptionRecord>, Error> {
            const OP: &str = "subscriptions";
            sqlx::query("SELECT id, created_ms, modified_ms, doc FROM ngsi_subscriptions ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(q(OP))?
                .iter()
                .map(|row| {
                    Ok(SubscriptionRecord {
                        id: get(row, "id", OP)?,
                        created_at: Timestamp(get(row, "created_ms", OP)?),
                        modified_at: Timestamp(get(row, "modified_ms", OP)?),
                        doc: parse_doc("subscription", &get::<String>(row, "doc", OP)?)?,
                    })
                })
                .collect()
        }

        pub(crate) async fn upsert_subscription(
            pool: &$Pool,
            r: &SubscriptionRecord,
        ) -> Result<(), Error> {
            sqlx::query(
                "INSERT INTO ngsi_subscriptions (id, created_ms, modified_ms, doc) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET modified_ms = excluded.modified_ms, doc = excluded.doc",
            )
            .bind(clean(&r.id).into_owned())
            .bind(r.created_at.0)
            .bind(r.modified_at.0)
            .bind(json_text(&r.doc))
            .execute(pool)
            .await
            .map_err(q("upsert_subscription"))?;
            Ok(())
        }

        // ----- indicators -----

        pub(crate) async fn indicator_inputs(
            pool: &$Pool,
        ) -> Result<Vec<IndicatorInputRecord>, Error> {
            const OP: &str = "indicator_inputs";
            sqlx::query(
                "SELECT indicator, year, value, numerator, denominator, quality, updated_ms, updated_by \
                 FROM indicator_inputs ORDER BY indicator, year",
            )
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .iter()
            .map(|row| {
                let year: i64 = get(row, "year", OP)?;
                Ok(IndicatorInputRecord {
                    indicator: get(row, "indicator", OP)?,
                    year: i32::try_from(year)
                        .map_err(|_| Error::corrupt("indicator year", year.to_string()))?,
                    value: get(row, "value", OP)?,
                    numerator: get(row, "numerator", OP)?,
                    denominator: get(row, "denominator", OP)?,
                    quality: get(row, "quality", OP)?,
                    updated_at: Timestamp(get(row, "updated_ms", OP)?),
                    updated_by: get(row, "updated_by", OP)?,
                })
            })
            .collect()
        }

        pub(crate) async fn upsert_indicator_inputs(
            pool: &$Pool,
            recs: &[IndicatorInputRecord],
        ) -> Result<(), Error> {
            const OP: &str = "upsert_indicator_inputs";
            let mut tx = pool.begin_with($BEGIN).await.map_err(q(OP))?;
            for r in recs {
                sqlx::query(
                    "INSERT INTO indicator_inputs (indicator, year, value, numerator, denominator, \
                     quality, updated_ms, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (indicator, year) DO UPDATE SET value = excluded.value, \
                     numerator = excluded.numerator, denominator = excluded.denominator, \
                     quality = excluded.quality, updated_ms = excluded.updated_ms, \
                     updated_by = excluded.updated_by",
                )
                .bind(clean(&r.indicator).into_owned())
                .bind(i64::from(r.year))
                .bind(r.value)
                .bind(r.numerator)
                .bind(r.denominator)
                .bind(r.quality)
                .bind(r.updated_at.0)
                .bind(clean(&r.updated_by).into_owned())
                .execute(&mut *tx)
                .await
                .map_err(q(OP))?;
            }
            tx.commit().await.map_err(q(OP))
        }

        pub(crate) async fn delete_indicator_input(
            pool: &$Pool,
            indicator: &str,
            year: i32,
        ) -> Result<bool, Error> {
            let r = sqlx::query("DELETE FROM indicator_inputs WHERE indicator = $1 AND year = $2")
                .bind(indicator.to_owned())
                .bind(i64::from(year))
                .execute(pool)
                .await
                .map_err(q("delete_indicator_input"))?;
            Ok(r.rows_affected() > 0)
        }

        pub(crate) async fn append_indicator_sample(
            pool: &$Pool,
            s: &IndicatorSample,
        ) -> Result<(), Error> {
            sqlx::query(
                "INSERT INTO indicator_history (ts_ms, composite, doc) VALUES ($1, $2, $3) \
                 ON CONFLICT (ts_ms) DO UPDATE SET composite = excluded.composite, doc = excluded.doc",
            )
            .bind(s.at.0)
            .bind(s.composite)
            .bind(json_text(&s.doc))
            .execute(pool)
            .await
            .map_err(q("append_indicator_sample"))?;
            Ok(())
        }

        pub(crate) async fn indicator_samples(
            pool: &$Pool,
            limit: u32,
        ) -> Result<Vec<IndicatorSample>, Error> {
            const OP: &str = "indicator_samples";
            let mut out = sqlx::query(
                "SELECT ts_ms, composite, doc FROM indicator_history ORDER BY ts_ms DESC LIMIT $1",
            )
            .bind(limit_of(limit))
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .iter()
            .map(|row| {
                Ok(IndicatorSample {
                    at: Timestamp(get(row, "ts_ms", OP)?),
                    composite: get(row, "composite", OP)?,
                    doc: parse_doc("indicator sample", &get::<String>(row, "doc", OP)?)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
            out.reverse();
            Ok(out)
        }

        pub(crate) async fn prune_indicator_samples(
            pool: &$Pool,
            before: i64,
        ) -> Result<u64, Error> {
            let r = sqlx::query("DELETE FROM indicator_history WHERE ts_ms < $1")
                .bind(before)
                .execute(pool)
                .await
                .map_err(q("prune_indicator_samples"))?;
            Ok(r.rows_affected())
        }
    };
}

pub(crate) mod sqlite {
    ops_sql!(sqlx::Sqlite, sqlx::SqlitePool, crate::sqlite::BEGIN);
}

pub(crate) mod postgres {
    ops_sql!(sqlx::Postgres, sqlx::PgPool, crate::postgres::BEGIN);
}
