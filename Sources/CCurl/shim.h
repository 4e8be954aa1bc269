#include <curl/curl.h>

// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic and cannot be called
// from Swift: these fixed-type wrappers are the only way Swift reaches them.
// https://curl.se/libcurl/c/curl_easy_setopt.html

static inline CURLcode renkei_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode renkei_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode renkei_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode renkei_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode renkei_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*renkei_curl_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode renkei_curl_easy_setopt_write_function(CURL *handle, CURLoption option,
                                                              renkei_curl_write_callback cb) {
    return curl_easy_setopt(handle, option, cb);
}
static inline CURLcode renkei_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode renkei_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode renkei_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLMcode renkei_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

// Added for RenkeiHTTP.
// CURLINFO_*_T values (CURLINFO_TOTAL_TIME_T) are returned through a curl_off_t pointer.
// https://curl.se/libcurl/c/CURLINFO_TOTAL_TIME_T.html
static inline CURLcode renkei_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
// CURL_GLOBAL_DEFAULT is a macro built from other macros, which Swift does not import.
// https://curl.se/libcurl/c/curl_global_init.html
static inline CURLcode renkei_curl_global_init_default(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}
