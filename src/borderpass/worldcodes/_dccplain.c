/*
 * The plain form of an EU DCC payload (claim -260/1), checked in C for every DCC scanned.
 *
 * The plain form is what issuers write: what the DCC schema 1.3.3 asks, more strictly, and
 * nothing else: a version 1.0.x to 1.3.x in ASCII digits; a birth date that is empty, a
 * year, a month or a day of 19xx or 20xx; names of at most 80 characters, the
 * transliterated ones only A-Z and '<'; exactly one vaccination, test or recovery with
 * exactly the members the schema names (a test's optional nm, ma, tc and dr, text), each
 * text, the country [A-Z]{1,10}, the issuer, certificate id, test name and centre at most
 * 80 characters, the doses whole numbers of at least 1. Only dicts, lists, text and
 * integers: JSON values. A payload in this form surely passes the schema (a test changes
 * every member of every official case and checks the JSON Schema validator passes what
 * this passes); any other payload goes to the validator, which gives the verdict.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

enum { VER, NAM, DOB, V, T, R, TG, VP, MP, MA, DN, SD, DT, CO, IS, CI, TT, SC, TR, NM, TC, DR,
       FR, DF, DU, FN, FNT, GN, GNT, NAMES };

static const char *const spelled[NAMES] = {
    "ver", "nam", "dob", "v", "t", "r", "tg", "vp", "mp", "ma", "dn", "sd", "dt", "co",
    "is", "ci", "tt", "sc", "tr", "nm", "tc", "dr", "fr", "df", "du", "fn", "fnt", "gn",
    "gnt",
};

/* The member names, interned once: the decoder's keys are found by them. */
static PyObject *name[NAMES];

static int
is_digit(Py_UCS1 c)
{
    return c >= '0' && c <= '9';
}

/* Text of at most ``longest`` characters. */
static int
text(PyObject *value, Py_ssize_t longest)
{
    return value != NULL && PyUnicode_CheckExact(value)
        && PyUnicode_GET_LENGTH(value) <= longest;
}

/* The characters of ASCII text and their number, or NULL for any other value. */
static const Py_UCS1 *
ascii(PyObject *value, Py_ssize_t *size)
{
    if (value == NULL || !PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) {
        return NULL;
    }
    *size = PyUnicode_GET_LENGTH(value);
    return PyUnicode_1BYTE_DATA(value);
}

/* ASCII text of ``least`` to ``most`` characters, each in ``allowed``. */
static int
text_of(PyObject *value, Py_ssize_t least, Py_ssize_t most, const char *allowed)
{
    Py_ssize_t size;
    const Py_UCS1 *chars = ascii(value, &size);
    if (chars == NULL || size < least || size > most) {
        return 0;
    }
    for (Py_ssize_t index = 0; index < size; index++) {
        if (chars[index] == 0 || strchr(allowed, chars[index]) == NULL) {
            return 0;
        }
    }
    return 1;
}

static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char upper_or_filler[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ<";

/* ^1\.[0-3]\.[0-9]+$ */
static int
version(PyObject *value)
{
    Py_ssize_t size;
    const Py_UCS1 *c = ascii(value, &size);
    if (c == NULL || size < 5 || c[0] != '1' || c[1] != '.' || c[2] < '0' || c[2] > '3' || c[3] != '.') {
        return 0;
    }
    for (Py_ssize_t index = 4; index < size; index++) {
        if (!is_digit(c[index])) {
            return 0;
        }
    }
    return 1;
}

/* ^((19|20)[0-9][0-9](-[0-9][0-9]){0,2})?$ */
static int
birth(PyObject *value)
{
    Py_ssize_t size;
    const Py_UCS1 *c = ascii(value, &size);
    if (c == NULL) {
        return 0;
    }
    if (size == 0) {
        return 1;
    }
    if (size != 4 && size != 7 && size != 10) {
        return 0;
    }
    if (!((c[0] == '1' && c[1] == '9') || (c[0] == '2' && c[1] == '0'))
        || !is_digit(c[2]) || !is_digit(c[3])) {
        return 0;
    }
    for (Py_ssize_t at = 4; at < size; at += 3) {
        if (c[at] != '-' || !is_digit(c[at + 1]) || !is_digit(c[at + 2])) {
            return 0;
        }
    }
    return 1;
}

/* The member of ``map`` named ``which``, or NULL (borrowed). */
static PyObject *
member(PyObject *map, int which)
{
    return PyDict_GetItemWithError(map, name[which]);
}

/* Whether every key of ``map`` is one of ``allowed`` (a list ending with -1). */
static int
keys_within(PyObject *map, const int *allowed)
{
    Py_ssize_t at = 0;
    PyObject *key, *value;
    while (PyDict_Next(map, &at, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            return 0;
        }
        int found = 0;
        for (const int *which = allowed; *which >= 0 && !found; which++) {
            found = PyUnicode_Compare(key, name[*which]) == 0;
        }
        if (!found) {
            return 0;
        }
    }
    return 1;
}

static int
names(PyObject *value)
{
    static const int allowed[] = {FN, FNT, GN, GNT, -1};
    if (value == NULL || !PyDict_CheckExact(value) || !keys_within(value, allowed)) {
        return 0;
    }
    PyObject *fn = member(value, FN), *fnt = member(value, FNT);
    PyObject *gn = member(value, GN), *gnt = member(value, GNT);
    return (fnt != NULL || gnt != NULL)
        && (fn == NULL || text(fn, 80)) && (gn == NULL || text(gn, 80))
        && (fnt == NULL || text_of(fnt, 0, 80, upper_or_filler))
        && (gnt == NULL || text_of(gnt, 0, 80, upper_or_filler));
}

/* A whole number of at least 1 (not a bool). */
static int
dose(PyObject *value)
{
    if (value == NULL || !PyLong_CheckExact(value)) {
        return 0;
    }
    int overflow;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    return overflow > 0 || (overflow == 0 && number >= 1);
}

/* The members every entry has: tg, co, is and ci. */
static int
common(PyObject *entry)
{
    return text(member(entry, TG), PY_SSIZE_T_MAX)
        && text_of(member(entry, CO), 1, 10, upper)
        && text(member(entry, IS), 80) && text(member(entry, CI), 80);
}

static int
vaccination(PyObject *entry)
{
    return PyDict_GET_SIZE(entry) == 10 && common(entry)
        && text(member(entry, VP), PY_SSIZE_T_MAX) && text(member(entry, MP), PY_SSIZE_T_MAX)
        && text(member(entry, MA), PY_SSIZE_T_MAX) && text(member(entry, DT), PY_SSIZE_T_MAX)
        && dose(member(entry, DN)) && dose(member(entry, SD));
}

static int
test(PyObject *entry)
{
    static const int allowed[] = {TG, TT, SC, TR, CO, IS, CI, NM, MA, TC, DR, -1};
    if (!keys_within(entry, allowed) || !common(entry)
        || !text(member(entry, TT), PY_SSIZE_T_MAX) || !text(member(entry, SC), PY_SSIZE_T_MAX)
        || !text(member(entry, TR), PY_SSIZE_T_MAX)) {
        return 0;
    }
    PyObject *nm = member(entry, NM), *ma = member(entry, MA);
    PyObject *tc = member(entry, TC), *dr = member(entry, DR);
    return (nm == NULL || text(nm, 80)) && (tc == NULL || text(tc, 80))
        && (ma == NULL || text(ma, PY_SSIZE_T_MAX)) && (dr == NULL || text(dr, PY_SSIZE_T_MAX));
}

static int
recovery(PyObject *entry)
{
    return PyDict_GET_SIZE(entry) == 7 && common(entry)
        && text(member(entry, FR), PY_SSIZE_T_MAX) && text(member(entry, DF), PY_SSIZE_T_MAX)
        && text(member(entry, DU), PY_SSIZE_T_MAX);
}

PyDoc_STRVAR(plain_kind_doc,
"plain_kind(certificate, /)\n--\n\n"
"Return 'v', 't' or 'r' when a DCC payload is in the plain form (see _dccplain.c), the\n"
"kind of its one entry; None says nothing (the payload may still be valid).");

static PyObject *
plain_kind(PyObject *module, PyObject *certificate)
{
    if (!PyDict_CheckExact(certificate) || PyDict_GET_SIZE(certificate) != 4) {
        Py_RETURN_NONE;
    }
    int kind = -1, found = 0;
    PyObject *entries = NULL;
    for (int which = V; which <= R; which++) {
        PyObject *value = member(certificate, which);
        if (value != NULL) {
            kind = which;
            entries = value;
            found++;
        }
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    /* Four members, three of them ver, nam and dob: exactly one of v, t and r. */
    if (found != 1 || !version(member(certificate, VER))
        || !birth(member(certificate, DOB)) || !names(member(certificate, NAM))
        || !PyList_CheckExact(entries) || PyList_GET_SIZE(entries) != 1) {
        goto not_plain;
    }
    PyObject *entry = PyList_GET_ITEM(entries, 0);
    if (!PyDict_CheckExact(entry)
        || !(kind == V ? vaccination(entry) : kind == T ? test(entry) : recovery(entry))) {
        goto not_plain;
    }
    return Py_NewRef(name[kind]);

not_plain:
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef plain_methods[] = {
    {"plain_kind", plain_kind, METH_O, plain_kind_doc},
    {NULL, NULL, 0, NULL},
};

static int
plain_exec(PyObject *module)
{
    for (int which = 0; which < NAMES; which++) {
        if (name[which] == NULL) {
            name[which] = PyUnicode_InternFromString(spelled[which]);
            if (name[which] == NULL) {
                return -1;
            }
        }
    }
    return 0;
}

static PyModuleDef_Slot plain_slots[] = {
    {Py_mod_exec, plain_exec},
    {0, NULL},
};

static struct PyModuleDef plain_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "borderpass.worldcodes._dccplain",
    .m_doc = "The plain form of an EU DCC payload, checked in C (_dccplain.c).",
    .m_size = 0,
    .m_methods = plain_methods,
    .m_slots = plain_slots,
};

PyMODINIT_FUNC
PyInit__dccplain(void)
{
    return PyModuleDef_Init(&plain_module);
}
