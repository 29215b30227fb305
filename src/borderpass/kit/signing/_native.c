/*
 * The byte-level steps of reading a health certificate that cost most in Python, in C:
 * Base45 (RFC 9285) decoding; one whole zlib or raw deflate stream inflated (RFC 1950,
 * 1951) with zlib in one call; an ES256 signature's r || s made the DER ECDSA-Sig-Value
 * that OpenSSL checks (RFC 5480 section 2.2, X9.62); and the plain CBOR that issuers
 * write (RFC 8949: definite lengths, integers, text, bytes, arrays, maps keyed by
 * integers or text, true, false and null) decoded without making a decoder object; and
 * a COSE_Sign1 in the form nearly every issuer writes (RFC 9052) taken apart.
 *
 * The tests hold each to a reference: Base45 to the ``base45`` package (the same bytes,
 * the same texts refused), the DER signature to cryptography's encode_dss_signature, on
 * every case and on random input, the inflating to Python's zlib module, and the plain
 * CBOR to cbor2: what it decodes, cbor2
 * decodes the same, and what it declines (anything else, and anything malformed) goes
 * to cbor2; the COSE_Sign1 to the CBOR decoder's reading of the same message. Nothing
 * here keeps state between calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <zlib.h>

/* The value of each Base45 character, 0xFF for a byte outside the alphabet. */
static unsigned char b45_value[256];

static void
b45_table(void)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    memset(b45_value, 0xFF, sizeof b45_value);
    for (int index = 0; alphabet[index]; index++) {
        b45_value[(unsigned char)alphabet[index]] = (unsigned char)index;
    }
}

PyDoc_STRVAR(b45decode_doc,
"b45decode(text, /)\n--\n\n"
"Decode Base45 text to bytes.\n\n"
"Raises ValueError for text that is not ASCII, holds a character outside the alphabet,\n"
"has a length of 1 modulo 3, or holds a group whose value exceeds its bytes.");

static PyObject *
b45decode(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "b45decode() takes a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) {
        PyErr_SetString(PyExc_ValueError, "not Base45: a character outside ASCII");
        return NULL;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    const unsigned char *in = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t groups = size / 3, tail = size % 3;
    if (tail == 1) {
        PyErr_SetString(PyExc_ValueError, "not Base45: a length of 1 modulo 3");
        return NULL;
    }
    PyObject *decoded = PyBytes_FromStringAndSize(NULL, 2 * groups + (tail == 2));
    if (decoded == NULL) {
        return NULL;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(decoded);
    for (Py_ssize_t group = 0; group < groups; group++, in += 3, out += 2) {
        unsigned int c = b45_value[in[0]], d = b45_value[in[1]], e = b45_value[in[2]];
        unsigned int value = c + 45 * d + 2025 * e;
        if ((c | d | e) == 0xFF || value > 0xFFFF) {
            goto refused;
        }
        out[0] = (unsigned char)(value >> 8);
        out[1] = (unsigned char)value;
    }
    if (tail == 2) {
        unsigned int c = b45_value[in[0]], d = b45_value[in[1]];
        unsigned int value = c + 45 * d;
        if ((c | d) == 0xFF || value > 0xFF) {
            goto refused;
        }
        out[0] = (unsigned char)value;
    }
    return decoded;

refused:
    Py_DECREF(decoded);
    PyErr_SetString(PyExc_ValueError, "not Base45: a character or group out of range");
    return NULL;
}

/* Write one half of r || s as a DER INTEGER: leading zeros dropped (one kept for zero),
 * a zero put before a first byte with its high bit set. Returns the bytes written. */
static Py_ssize_t
der_integer(const unsigned char *half, Py_ssize_t size, unsigned char *out)
{
    Py_ssize_t start = 0;
    while (start < size - 1 && half[start] == 0) {
        start++;
    }
    Py_ssize_t length = size - start, pad = half[start] & 0x80 ? 1 : 0;
    out[0] = 0x02;
    out[1] = (unsigned char)(length + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, half + start, (size_t)length);
    return 2 + pad + length;
}

PyDoc_STRVAR(ecdsa_der_doc,
"ecdsa_der(signature, /)\n--\n\n"
"Return a 64-byte ES256 signature (r || s, big-endian) as a DER ECDSA-Sig-Value.\n\n"
"Raises ValueError when the signature is not 64 bytes.");

static PyObject *
ecdsa_der(PyObject *module, PyObject *signature)
{
    if (!PyBytes_Check(signature)) {
        PyErr_SetString(PyExc_TypeError, "ecdsa_der() takes bytes");
        return NULL;
    }
    if (PyBytes_GET_SIZE(signature) != 64) {
        PyErr_SetString(PyExc_ValueError, "an ES256 signature is 64 bytes");
        return NULL;
    }
    const unsigned char *raw = (const unsigned char *)PyBytes_AS_STRING(signature);
    unsigned char out[2 + 2 * 35];
    Py_ssize_t length = der_integer(raw, 32, out + 2);
    length += der_integer(raw + 32, 32, out + 2 + length);
    out[0] = 0x30;
    out[1] = (unsigned char)length;
    return PyBytes_FromStringAndSize((const char *)out, 2 + length);
}

/* -- one whole deflate stream ----------------------------------------------------- */

PyDoc_STRVAR(inflate_doc,
"inflate(data, limit, wbits, /)\n--\n\n"
"Inflate exactly one whole stream: zlib's (wbits 15) or raw deflate (wbits -15).\n\n"
"Raises ValueError when the data is not one whole stream (cut short, bytes after it, a\n"
"preset dictionary asked for, corrupt) or inflates to more than limit bytes.\n"
"Inflated in one call, so that zlib needs no window beside the output.");

static PyObject *
inflate_whole(PyObject *module, PyObject *const *args, Py_ssize_t count)
{
    if (count != 3 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "inflate() takes bytes, a limit and wbits");
        return NULL;
    }
    Py_ssize_t limit = PyLong_AsSsize_t(args[1]);
    long wbits = PyLong_AsLong(args[2]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (limit < 0 || limit > (Py_ssize_t)UINT_MAX || (wbits != MAX_WBITS && wbits != -MAX_WBITS)) {
        PyErr_SetString(PyExc_ValueError, "inflate(): a limit of 0 to 4 GiB, wbits 15 or -15");
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]);
    if (size > (Py_ssize_t)UINT_MAX) {
        PyErr_SetString(PyExc_ValueError, "not one whole stream within the limit");
        return NULL;
    }
    /* One more byte than the limit: output that fills it is more than the limit. */
    PyObject *inflated = PyBytes_FromStringAndSize(NULL, limit + 1);
    if (inflated == NULL) {
        return NULL;
    }
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (inflateInit2(&stream, (int)wbits) != Z_OK) {
        Py_DECREF(inflated);
        return PyErr_NoMemory();
    }
    stream.next_in = (Bytef *)PyBytes_AS_STRING(args[0]);
    stream.avail_in = (uInt)size;
    stream.next_out = (Bytef *)PyBytes_AS_STRING(inflated);
    stream.avail_out = (uInt)(limit + 1);
    int done = inflate(&stream, Z_FINISH);
    inflateEnd(&stream);
    Py_ssize_t length = limit + 1 - (Py_ssize_t)stream.avail_out;
    if (done != Z_STREAM_END || stream.avail_in != 0 || length > limit) {
        Py_DECREF(inflated);
        PyErr_SetString(PyExc_ValueError, "not one whole stream within the limit");
        return NULL;
    }
    if (_PyBytes_Resize(&inflated, length) < 0) {
        return NULL;
    }
    return inflated;
}

/* -- plain CBOR ------------------------------------------------------------------ */

/* A reader over one item's bytes. ``declined`` is set, with no Python error, for input
 * outside the plain form or not well formed: cbor2 then reads it and says which. */
typedef struct {
    const unsigned char *at, *end;
    int declined;
} reader;

#define PLAIN_DEPTH 32

/* Read a head's argument: the major type's value or length. 0 on success. */
static int
read_head(reader *r, unsigned int *major, unsigned long long *argument)
{
    if (r->at >= r->end) {
        return -1;
    }
    unsigned int first = *r->at++;
    unsigned int info = first & 0x1F;
    *major = first >> 5;
    if (info < 24) {
        *argument = info;
        return 0;
    }
    if (info > 27) {  /* indefinite lengths and the reserved values */
        return -1;
    }
    size_t size = (size_t)1 << (info - 24);
    if ((size_t)(r->end - r->at) < size) {
        return -1;
    }
    unsigned long long value = 0;
    for (size_t index = 0; index < size; index++) {
        value = value << 8 | r->at[index];
    }
    r->at += size;
    *argument = value;
    return 0;
}

static PyObject *read_item(reader *r, int depth);

static PyObject *
read_map(reader *r, unsigned long long count, int depth)
{
    if (count > (unsigned long long)(r->end - r->at) / 2) {  /* two bytes a pair at least */
        r->declined = 1;
        return NULL;
    }
    PyObject *map = PyDict_New();
    if (map == NULL) {
        return NULL;
    }
    for (unsigned long long index = 0; index < count; index++) {
        PyObject *key = read_item(r, depth + 1);
        if (key == NULL) {
            goto failed;
        }
        if (!PyLong_CheckExact(key) && !PyUnicode_CheckExact(key)) {
            Py_DECREF(key);
            r->declined = 1;
            goto failed;
        }
        PyObject *value = read_item(r, depth + 1);
        if (value == NULL) {
            Py_DECREF(key);
            goto failed;
        }
        int set = PyDict_SetItem(map, key, value);  /* a later equal key wins, as in cbor2 */
        Py_DECREF(key);
        Py_DECREF(value);
        if (set < 0) {
            goto failed;
        }
    }
    return map;

failed:
    Py_DECREF(map);
    return NULL;
}

static PyObject *
read_array(reader *r, unsigned long long count, int depth)
{
    if (count > (unsigned long long)(r->end - r->at)) {  /* a byte an item at least */
        r->declined = 1;
        return NULL;
    }
    PyObject *array = PyList_New((Py_ssize_t)count);
    if (array == NULL) {
        return NULL;
    }
    for (unsigned long long index = 0; index < count; index++) {
        PyObject *item = read_item(r, depth + 1);
        if (item == NULL) {
            Py_DECREF(array);
            return NULL;
        }
        PyList_SET_ITEM(array, (Py_ssize_t)index, item);
    }
    return array;
}

static PyObject *
read_item(reader *r, int depth)
{
    unsigned int major;
    unsigned long long argument;
    const unsigned char *head = r->at;
    if (depth > PLAIN_DEPTH || read_head(r, &major, &argument) < 0) {
        r->declined = 1;
        return NULL;
    }
    switch (major) {
    case 0:
        return PyLong_FromUnsignedLongLong(argument);
    case 1:
        if (argument > (unsigned long long)LLONG_MAX) {
            break;
        }
        return PyLong_FromLongLong(-1 - (long long)argument);
    case 2:
    case 3: {
        if (argument > (unsigned long long)(r->end - r->at)) {
            break;
        }
        const char *start = (const char *)r->at;
        r->at += argument;
        if (major == 2) {
            return PyBytes_FromStringAndSize(start, (Py_ssize_t)argument);
        }
        PyObject *text = PyUnicode_DecodeUTF8(start, (Py_ssize_t)argument, "strict");
        if (text == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear();
            r->declined = 1;
        }
        return text;
    }
    case 4:
        return read_array(r, argument, depth);
    case 5:
        return read_map(r, argument, depth);
    case 7:  /* false, true and null in their one-byte heads only */
        switch (*head) {
        case 0xF4:
            Py_RETURN_FALSE;
        case 0xF5:
            Py_RETURN_TRUE;
        case 0xF6:
            Py_RETURN_NONE;
        }
        break;
    }
    r->declined = 1;  /* tags, floats, undefined, other simple values */
    return NULL;
}

PyDoc_STRVAR(cbor_plain_doc,
"cbor_plain(data, /)\n--\n\n"
"Decode bytes that are exactly one CBOR item in the plain form.\n\n"
"Returns the item as cbor2 decodes it, or NotImplemented for bytes that are not one\n"
"plain item (tags, floats, indefinite lengths, keys other than integers and text,\n"
"malformed or trailing bytes ...), which are left to cbor2.");

static PyObject *
cbor_plain(PyObject *module, PyObject *data)
{
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "cbor_plain() takes bytes");
        return NULL;
    }
    const unsigned char *start = (const unsigned char *)PyBytes_AS_STRING(data);
    reader r = {start, start + PyBytes_GET_SIZE(data), 0};
    PyObject *item = read_item(&r, 0);
    if (item == NULL) {
        if (r.declined && !PyErr_Occurred()) {
            Py_RETURN_NOTIMPLEMENTED;
        }
        return NULL;
    }
    if (r.at != r.end) {
        Py_DECREF(item);
        Py_RETURN_NOTIMPLEMENTED;
    }
    return item;
}

/* -- COSE_Sign1 in its usual form ----------------------------------------------- */

/* Find the byte string whose shortest-form head is at ``at``: its start and end, or
 * -1 when there is none such within ``size``. */
static int
bstr_at(const unsigned char *data, Py_ssize_t size, Py_ssize_t at, Py_ssize_t *start,
        Py_ssize_t *end)
{
    if (at >= size) {
        return -1;
    }
    unsigned int first = data[at];
    if (first >= 0x40 && first < 0x58) {
        *start = at + 1;
        *end = at + 1 + (first - 0x40);
    }
    else if (first == 0x58 && at + 2 <= size && data[at + 1] >= 24) {
        *start = at + 2;
        *end = at + 2 + data[at + 1];
    }
    else if (first == 0x59 && at + 3 <= size && data[at + 1]) {
        *start = at + 3;
        *end = at + 3 + (data[at + 1] << 8 | data[at + 2]);
    }
    else {
        return -1;
    }
    return *end <= size ? 0 : -1;
}

static const char sig_structure[] = "\x84\x6aSignature1";

PyDoc_STRVAR(sign1_plain_doc,
"sign1_plain(message, /)\n--\n\n"
"Read a COSE_Sign1 in the form nearly every issuer writes.\n\n"
"The form: no tag, tag 18, or tags 61 and 18; shortest-form heads; an unprotected\n"
"header that is empty or holds only a key id (a byte string). Returns (tags, protected,\n"
"kid, payload, signature, to_be_signed): tags 0 for none, 1 for 18, 2 for 61 and 18;\n"
"kid None when the unprotected header is empty; to_be_signed the CBOR of\n"
"[\"Signature1\", protected, h'', payload], which with shortest-form heads holds the\n"
"message's own bytes. Returns None for any other bytes, which a CBOR decoder reads.");

static PyObject *
sign1_plain(PyObject *module, PyObject *message)
{
    if (!PyBytes_Check(message)) {
        PyErr_SetString(PyExc_TypeError, "sign1_plain() takes bytes");
        return NULL;
    }
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(message);
    Py_ssize_t size = PyBytes_GET_SIZE(message);
    Py_ssize_t head;
    int tags;
    if (size >= 2 && data[0] == 0xD2 && data[1] == 0x84) {
        tags = 1;
        head = 2;
    }
    else if (size >= 4 && data[0] == 0xD8 && data[1] == 0x3D && data[2] == 0xD2
             && data[3] == 0x84) {
        tags = 2;
        head = 4;
    }
    else if (size >= 1 && data[0] == 0x84) {
        tags = 0;
        head = 1;
    }
    else {
        Py_RETURN_NONE;
    }
    Py_ssize_t protected_start, protected_end, kid_start = 0, kid_end = -1, at;
    Py_ssize_t payload_start, payload_end, signature_start, signature_end;
    if (bstr_at(data, size, head, &protected_start, &protected_end) < 0) {
        Py_RETURN_NONE;
    }
    at = protected_end;
    if (at < size && data[at] == 0xA0) {
        at += 1;
    }
    else if (at + 2 <= size && data[at] == 0xA1 && data[at + 1] == 0x04) {
        if (bstr_at(data, size, at + 2, &kid_start, &kid_end) < 0) {
            Py_RETURN_NONE;
        }
        at = kid_end;
    }
    else {
        Py_RETURN_NONE;
    }
    if (bstr_at(data, size, at, &payload_start, &payload_end) < 0
        || bstr_at(data, size, payload_end, &signature_start, &signature_end) < 0
        || signature_end != size) {
        Py_RETURN_NONE;
    }
    Py_ssize_t prefix = sizeof sig_structure - 1;
    Py_ssize_t protected_part = protected_end - head, payload_part = payload_end - at;
    PyObject *to_be_signed = PyBytes_FromStringAndSize(NULL, prefix + protected_part + 1
                                                       + payload_part);
    if (to_be_signed == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(to_be_signed);
    memcpy(out, sig_structure, (size_t)prefix);
    memcpy(out + prefix, data + head, (size_t)protected_part);
    out[prefix + protected_part] = 0x40;
    memcpy(out + prefix + protected_part + 1, data + at, (size_t)payload_part);
    PyObject *kid = kid_end < 0 ? Py_NewRef(Py_None)
        : PyBytes_FromStringAndSize((const char *)data + kid_start, kid_end - kid_start);
    PyObject *read = NULL;
    PyObject *parts[5] = {
        PyLong_FromLong(tags),
        PyBytes_FromStringAndSize((const char *)data + protected_start,
                                  protected_end - protected_start),
        PyBytes_FromStringAndSize((const char *)data + payload_start,
                                  payload_end - payload_start),
        PyBytes_FromStringAndSize((const char *)data + signature_start,
                                  signature_end - signature_start),
        kid,
    };
    if (parts[0] && parts[1] && parts[2] && parts[3] && parts[4]) {
        read = PyTuple_Pack(6, parts[0], parts[1], parts[4], parts[2], parts[3],
                            to_be_signed);
    }
    for (int index = 0; index < 5; index++) {
        Py_XDECREF(parts[index]);
    }
    Py_DECREF(to_be_signed);
    return read;
}

static PyMethodDef native_methods[] = {
    {"b45decode", b45decode, METH_O, b45decode_doc},
    {"ecdsa_der", ecdsa_der, METH_O, ecdsa_der_doc},
    {"inflate", (PyCFunction)(void (*)(void))inflate_whole, METH_FASTCALL, inflate_doc},
    {"cbor_plain", cbor_plain, METH_O, cbor_plain_doc},
    {"sign1_plain", sign1_plain, METH_O, sign1_plain_doc},
    {NULL, NULL, 0, NULL},
};

static int
native_exec(PyObject *module)
{
    b45_table();
    return 0;
}

static PyModuleDef_Slot native_slots[] = {
    {Py_mod_exec, native_exec},
    {0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "borderpass.kit.signing._native",
    .m_doc = "Base45, inflating, ES256's DER signature, plain CBOR, COSE_Sign1 in C (_native.c).",
    .m_size = 0,
    .m_methods = native_methods,
    .m_slots = native_slots,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModuleDef_Init(&native_module);
}
