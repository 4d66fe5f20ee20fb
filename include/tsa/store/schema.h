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
// 4: log_checkpoints (C2SP signed notes) (schema.cc).
inline constexpr int kSchemaVersion = 6;

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
