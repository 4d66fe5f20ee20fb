// The tsad database schema (SQLite, WAL) and its migrations. AUDIT_CHAIN.md documents the tables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/store/database.h"
#include "tsa/store/log_store.h"

namespace tsa::store {

// 1: the tables; 2: indexes for serial lookups and the latest genTime; 3: tsa_certificates;
// 4: log_checkpoints (C2SP signed notes); 5: leaf_index, the serial index of the tiles layout;
// 6: witness_cosignatures (schema.cc).
inline constexpr int kSchemaVersion = 6;

// Where the leaves and Merkle nodes live (meta 'log_layout'; AUDIT_CHAIN.md "On-disk layout"):
// the tables tokens and merkle_nodes, or entry bundles and hash tiles beside the database.
enum class LogLayout { kSqlite, kTiles };

// The layout recorded in meta; nullopt for a log that predates it (then: kSqlite when the tokens
// table holds rows, else still to be chosen).
Result<std::optional<LogLayout>> StoredLayout(Database& db);
Status SetStoredLayout(Database& db, LogLayout layout);
// Whether the tokens table holds any row; any row without its token (--store-token-hashes-only).
Result<bool> HasTokenRows(Database& db);
Result<bool> HasHashOnlyRows(Database& db);
// The last step of the move to the tiles layout (audit/log_migration.h): leaf_index from the
// tokens rows, then the rows of tokens and merkle_nodes deleted. Inside the caller's transaction.
Status MoveTokenRowsToLeafIndex(Database& db);

// Creates or upgrades the schema to kSchemaVersion. Refuses a database written by a newer tsad.
Status Migrate(Database& db);

// Claims a fresh serial space for `instance` (core/serial.h): epoch = max(now_us, every epoch ever
// recorded + 1), recorded durably before any token uses it.
Result<std::uint64_t> ClaimSerialEpoch(Database& db, std::uint16_t instance, std::int64_t now_us);

// The SQL behind LogStore::RecordCertificateEvent / CertificateEvents (CertificateEvent is in
// log_store.h).
Status RecordCertificateEvent(Database& db, const CertificateEvent& event);
Result<std::vector<CertificateEvent>> CertificateEvents(Database& db);

}  // namespace tsa::store
