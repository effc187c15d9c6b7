/* Check suite of the gateway key store: images, files, permissions. */
#define _XOPEN_SOURCE 700

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <cpns/keystore.h>

static char dir[64];
static char path_store[128];
static char path_key[128];
static uint8_t dkey[CPNS_DEVICE_KEY_LEN];
static cpns_keystore_entry *entry;
static cpns_keystore_entry *got;

static void fill_entry(cpns_keystore_entry *e) {
  static const char ent[] = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6";
  static const char usr[] = "j\xc3\xbcrgen@example.org";
  static const char realm[] = "example.org";
  memset(e, 0, sizeof(*e));
  memset(e->eukey, 0xe1, sizeof(e->eukey));
  memset(e->key_id, 0x1d, sizeof(e->key_id));
  e->entity_id_len = sizeof(ent) - 1;
  memcpy(e->entity_id, ent, e->entity_id_len);
  e->user_id_len = sizeof(usr) - 1;
  memcpy(e->user_id, usr, e->user_id_len);
  e->realm_len = sizeof(realm) - 1;
  memcpy(e->realm, realm, e->realm_len);
  e->mode = CPNS_MODE_PNE_PLUS_PN_GW;
  e->assigned_at = 1795000000u;
}

static void setup(void) {
  ck_assert_int_eq(cpns_init(), 0);
  strcpy(dir, "/tmp/cpns-ks-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path_store, sizeof(path_store), "%s/keystore", dir);
  snprintf(path_key, sizeof(path_key), "%s/device.key", dir);
  memset(dkey, 0x4b, sizeof(dkey));
  entry = sodium_malloc(sizeof(*entry));
  got = sodium_malloc(sizeof(*got));
  ck_assert_ptr_nonnull(entry);
  ck_assert_ptr_nonnull(got);
  fill_entry(entry);
}

static void teardown(void) {
  char cmd[128];
  sodium_free(entry);
  sodium_free(got);
  /* Only our own mkdtemp directory. */
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static size_t seal(uint8_t *buf, size_t cap) {
  size_t n;
  ck_assert_int_eq(cpns_keystore_seal(buf, cap, &n, entry, dkey), 0);
  return n;
}

static void assert_zeroed(const cpns_keystore_entry *e) {
  static const cpns_keystore_entry zero;
  ck_assert_mem_eq(e, &zero, sizeof(zero));
}

static void write_file(const char *path, const uint8_t *p, size_t n, mode_t mode) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(p, 1, n, f), n);
  ck_assert_int_eq(fclose(f), 0);
  ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_keystore_open_round_trip) {
  uint8_t buf[CPNS_KEYSTORE_MAX];
  size_t n = seal(buf, sizeof(buf));
  ck_assert_mem_eq(buf, "CPNSKEYS\x01", 9);
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, dkey), 0);
  ck_assert_mem_eq(got, entry, sizeof(*entry));
}
END_TEST

START_TEST(test_keystore_open_largest_and_empty_realm) {
  uint8_t buf[CPNS_KEYSTORE_MAX];
  size_t n;
  entry->entity_id_len = CPNS_ENTITY_ID_MAX;
  memset(entry->entity_id, 'e', CPNS_ENTITY_ID_MAX);
  entry->user_id_len = CPNS_USER_ID_MAX;
  memset(entry->user_id, 'u', CPNS_USER_ID_MAX);
  entry->realm_len = CPNS_REALM_MAX;
  memset(entry->realm, 'r', CPNS_REALM_MAX);
  n = seal(buf, sizeof(buf));
  ck_assert_uint_le(n, CPNS_KEYSTORE_MAX);
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, dkey), 0);
  ck_assert_mem_eq(got, entry, sizeof(*entry));
  ck_assert_int_eq(cpns_keystore_seal(buf, n - 1, &n, entry, dkey), CPNS_ERR_BUFFER_TOO_SMALL);
  entry->realm_len = 0;
  memset(entry->realm, 0, sizeof(entry->realm));
  entry->mode = CPNS_MODE_PN_GW;
  n = seal(buf, sizeof(buf));
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, dkey), 0);
  ck_assert_mem_eq(got, entry, sizeof(*entry));
}
END_TEST

START_TEST(test_keystore_seal_rejects_bad_entry) {
  uint8_t buf[CPNS_KEYSTORE_MAX];
  size_t n;
  entry->entity_id_len = 0;
  ck_assert_int_eq(cpns_keystore_seal(buf, sizeof(buf), &n, entry, dkey),
                   CPNS_ERR_INVALID_ARGUMENT);
  fill_entry(entry);
  entry->user_id_len = CPNS_USER_ID_MAX + 1;
  ck_assert_int_eq(cpns_keystore_seal(buf, sizeof(buf), &n, entry, dkey),
                   CPNS_ERR_INVALID_ARGUMENT);
  fill_entry(entry);
  entry->mode = (cpns_mode)2;
  ck_assert_int_eq(cpns_keystore_seal(buf, sizeof(buf), &n, entry, dkey),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_keystore_seal(NULL, sizeof(buf), &n, entry, dkey),
                   CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_keystore_open_truncated) {
  uint8_t buf[CPNS_KEYSTORE_MAX];
  size_t n = seal(buf, sizeof(buf)), i;
  for (i = 0; i < n; i++) {
    if (i == 9) {
      continue; /* magic+version present: still truncated below */
    }
    memset(got, 0x55, sizeof(*got));
    ck_assert_int_eq(cpns_keystore_open(got, buf, i, dkey), CPNS_ERR_STORE_TRUNCATED);
    assert_zeroed(got);
  }
  ck_assert_int_eq(cpns_keystore_open(got, buf, 9, dkey), CPNS_ERR_STORE_TRUNCATED);
}
END_TEST

START_TEST(test_keystore_open_corrupt) {
  uint8_t buf[CPNS_KEYSTORE_MAX + 2];
  size_t n = seal(buf, sizeof(buf)), i;
  /* Not a key store at all. */
  buf[0] = 'X';
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, dkey), CPNS_ERR_STORE_CORRUPT);
  ck_assert_int_eq(cpns_keystore_open(got, (const uint8_t *)"hello", 5, dkey),
                   CPNS_ERR_STORE_CORRUPT);
  buf[0] = 'C';
  /* Trailing bytes. */
  buf[n] = 0;
  ck_assert_int_eq(cpns_keystore_open(got, buf, n + 1, dkey), CPNS_ERR_STORE_CORRUPT);
  /* Oversized input is refused before anything else. */
  memset(buf + n, 0, sizeof(buf) - n);
  ck_assert_int_eq(cpns_keystore_open(got, buf, CPNS_KEYSTORE_MAX + 1, dkey),
                   CPNS_ERR_STORE_CORRUPT);
  /* Every bit of nonce, length and body: corrupt (length may read as truncated). */
  for (i = 25; i < n; i++) {
    int rv;
    buf[i] ^= 0x10;
    rv = cpns_keystore_open(got, buf, n, dkey);
    ck_assert_msg(rv == CPNS_ERR_STORE_CORRUPT ||
                      (rv == CPNS_ERR_STORE_TRUNCATED && (i == 49 || i == 50)),
                  "offset %zu gave %d", i, rv);
    assert_zeroed(got);
    buf[i] ^= 0x10;
  }
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, dkey), 0);
}
END_TEST

START_TEST(test_keystore_open_wrong_version) {
  uint8_t buf[CPNS_KEYSTORE_MAX];
  size_t n = seal(buf, sizeof(buf));
  buf[8] = 2;
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, dkey), CPNS_ERR_STORE_VERSION);
  buf[8] = 0;
  ck_assert_int_eq(cpns_keystore_open(got, buf, 9, dkey), CPNS_ERR_STORE_VERSION);
  assert_zeroed(got);
}
END_TEST

START_TEST(test_keystore_open_wrong_key) {
  uint8_t buf[CPNS_KEYSTORE_MAX];
  size_t n = seal(buf, sizeof(buf));
  /* A damaged key check reads as a wrong key: the two cannot be told apart. */
  buf[9] ^= 1;
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, dkey), CPNS_ERR_STORE_WRONG_KEY);
  buf[9] ^= 1;
  dkey[31] ^= 1;
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, dkey), CPNS_ERR_STORE_WRONG_KEY);
  assert_zeroed(got);
  ck_assert_int_eq(cpns_keystore_open(got, buf, n, NULL), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_keystore_open(NULL, buf, n, dkey), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_keystore_load_round_trip) {
  struct stat st;
  ck_assert_int_eq(cpns_keystore_save(path_store, entry, dkey), 0);
  ck_assert_int_eq(stat(path_store, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), 0);
  ck_assert_mem_eq(got, entry, sizeof(*entry));
}
END_TEST

START_TEST(test_keystore_save_atomic_replace) {
  char cmd[256];
  FILE *p;
  char line[64];
  ck_assert_int_eq(cpns_keystore_save(path_store, entry, dkey), 0);
  entry->key_id[0] = 0x77;
  entry->assigned_at++;
  ck_assert_int_eq(cpns_keystore_save(path_store, entry, dkey), 0);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), 0);
  ck_assert_mem_eq(got, entry, sizeof(*entry));
  /* No temporary file left behind: the directory holds the store only. */
  snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
  p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
  pclose(p);
  ck_assert_int_eq(atoi(line), 1);
}
END_TEST

START_TEST(test_keystore_save_failure_keeps_old) {
  char sub[160];
  ck_assert_int_eq(cpns_keystore_save(path_store, entry, dkey), 0);
  /* Missing directory: IO error, nothing written anywhere. */
  snprintf(sub, sizeof(sub), "%s/missing/keystore", dir);
  ck_assert_int_eq(cpns_keystore_save(sub, entry, dkey), CPNS_ERR_IO);
  /* An invalid entry never touches the existing file. */
  entry->entity_id_len = 0;
  ck_assert_int_eq(cpns_keystore_save(path_store, entry, dkey), CPNS_ERR_INVALID_ARGUMENT);
  fill_entry(entry);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), 0);
  ck_assert_mem_eq(got, entry, sizeof(*entry));
}
END_TEST

START_TEST(test_keystore_load_permissions) {
  ck_assert_int_eq(cpns_keystore_save(path_store, entry, dkey), 0);
  ck_assert_int_eq(chmod(path_store, 0640), 0);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_STORE_PERMISSIONS);
  assert_zeroed(got);
  ck_assert_int_eq(chmod(path_store, 0602), 0);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_STORE_PERMISSIONS);
  ck_assert_int_eq(chmod(path_store, 0400), 0);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), 0);
}
END_TEST

/* A symbolic link to a good key store or device key is not followed (O_NOFOLLOW). */
START_TEST(test_keystore_and_device_key_refuse_symlinks) {
  char link[sizeof(path_store) + 8];
  uint8_t k[32], raw[32];
  memset(raw, 7, sizeof(raw));
  snprintf(link, sizeof(link), "%s/link", dir);
  ck_assert_int_eq(cpns_keystore_save(path_store, entry, dkey), 0);
  ck_assert_int_eq(symlink(path_store, link), 0);
  ck_assert_int_eq(cpns_keystore_load(got, link, dkey), CPNS_ERR_IO);
  ck_assert_int_eq(errno, ELOOP);
  assert_zeroed(got);
  ck_assert_int_eq(unlink(link), 0);
  write_file(path_key, raw, 32, 0600);
  ck_assert_int_eq(symlink(path_key, link), 0);
  ck_assert_int_eq(cpns_device_key_load(k, link), CPNS_ERR_IO);
  ck_assert_int_eq(errno, ELOOP);
  ck_assert_int_eq(cpns_device_key_load(k, path_key), 0);
}
END_TEST

START_TEST(test_keystore_load_errors) {
  uint8_t buf[CPNS_KEYSTORE_MAX + 10];
  size_t n;
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_IO);
  ck_assert_int_eq(cpns_keystore_load(got, dir, dkey), CPNS_ERR_IO);
  n = seal(buf, sizeof(buf));
  write_file(path_store, buf, n / 2, 0600);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_STORE_TRUNCATED);
  buf[8] = 9;
  write_file(path_store, buf, n, 0600);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_STORE_VERSION);
  buf[8] = 1;
  buf[n - 1] ^= 1;
  write_file(path_store, buf, n, 0600);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_STORE_CORRUPT);
  buf[n - 1] ^= 1;
  memset(buf + n, 0, sizeof(buf) - n);
  write_file(path_store, buf, sizeof(buf), 0600);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_STORE_CORRUPT);
  write_file(path_store, buf, n, 0600);
  dkey[0] ^= 1;
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_STORE_WRONG_KEY);
  ck_assert_int_eq(cpns_keystore_load(got, NULL, dkey), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_device_key_generate_and_load) {
  uint8_t k1[32], k2[32];
  struct stat st;
  ck_assert_int_eq(cpns_device_key_generate(path_key), 0);
  ck_assert_int_eq(stat(path_key, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(st.st_size, 32);
  ck_assert_int_eq(cpns_device_key_load(k1, path_key), 0);
  /* Never overwrites an existing key. */
  ck_assert_int_eq(cpns_device_key_generate(path_key), CPNS_ERR_IO);
  ck_assert_int_eq(cpns_device_key_load(k2, path_key), 0);
  ck_assert_mem_eq(k1, k2, 32);
  /* The store opens only under the key that sealed it. */
  ck_assert_int_eq(cpns_keystore_save(path_store, entry, k1), 0);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, k2), 0);
  ck_assert_int_eq(cpns_keystore_load(got, path_store, dkey), CPNS_ERR_STORE_WRONG_KEY);
}
END_TEST

START_TEST(test_device_key_load_errors) {
  uint8_t k[32], raw[33];
  memset(raw, 7, sizeof(raw));
  ck_assert_int_eq(cpns_device_key_load(k, path_key), CPNS_ERR_IO);
  write_file(path_key, raw, 31, 0600);
  ck_assert_int_eq(cpns_device_key_load(k, path_key), CPNS_ERR_DEVICE_KEY);
  write_file(path_key, raw, 33, 0600);
  ck_assert_int_eq(cpns_device_key_load(k, path_key), CPNS_ERR_DEVICE_KEY);
  write_file(path_key, raw, 0, 0600);
  ck_assert_int_eq(cpns_device_key_load(k, path_key), CPNS_ERR_DEVICE_KEY);
  write_file(path_key, raw, 32, 0644);
  ck_assert_int_eq(cpns_device_key_load(k, path_key), CPNS_ERR_STORE_PERMISSIONS);
  ck_assert_int_eq(chmod(path_key, 0600), 0);
  ck_assert_int_eq(cpns_device_key_load(k, path_key), 0);
  ck_assert_mem_eq(k, raw, 32);
  ck_assert_int_eq(cpns_device_key_load(NULL, path_key), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_device_key_generate(NULL), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

static Suite *keystore_suite(void) {
  Suite *s = suite_create("keystore");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_keystore_open_round_trip);
  tcase_add_test(tc, test_keystore_and_device_key_refuse_symlinks);
  tcase_add_test(tc, test_keystore_open_largest_and_empty_realm);
  tcase_add_test(tc, test_keystore_seal_rejects_bad_entry);
  tcase_add_test(tc, test_keystore_open_truncated);
  tcase_add_test(tc, test_keystore_open_corrupt);
  tcase_add_test(tc, test_keystore_open_wrong_version);
  tcase_add_test(tc, test_keystore_open_wrong_key);
  tcase_add_test(tc, test_keystore_load_round_trip);
  tcase_add_test(tc, test_keystore_save_atomic_replace);
  tcase_add_test(tc, test_keystore_save_failure_keeps_old);
  tcase_add_test(tc, test_keystore_load_permissions);
  tcase_add_test(tc, test_keystore_load_errors);
  tcase_add_test(tc, test_device_key_generate_and_load);
  tcase_add_test(tc, test_device_key_load_errors);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(keystore_suite());
  int failed;
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
