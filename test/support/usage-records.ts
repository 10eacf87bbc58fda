/**
 * The keys service's usage records as one derived table, for specs that read them from `ekm_keys.events`:
 * a group commit writes one `KeyUsageBatchRecorded` event holding `{ records: [...] }`, older rows (and
 * a lone record) are `KeyUsageRecorded` with the record as data. Each row of the table is one record
 * (`data`) with its event's `global_position`.
 *
 *   SELECT data FROM ${USAGE_RECORDS} WHERE data->>'requestId' = $1
 */
export const USAGE_RECORDS =
  "(SELECT r AS data, e.global_position FROM ekm_keys.events e CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN e.event_type = 'KeyUsageBatchRecorded' THEN e.data->'records' ELSE jsonb_build_array(e.data) END) AS r WHERE e.event_type IN ('KeyUsageRecorded', 'KeyUsageBatchRecorded')) AS usage_records";
