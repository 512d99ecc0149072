// scripts/simdjson-walk: the limit batch ingest is measured against
// (scripts/bench).  Reads an NDJSON body and walks it with simdjson's
// On-Demand parser the way rtdash's parser must: every document, every
// field, each value read as what it is (strings unescaped, numbers
// converted).  Prints the events per second of the fastest of ROUNDS
// passes, on one core.  Built by the benchmark (never linked into the
// module):  g++ -O2 -o build/simdjson-walk scripts/simdjson-walk.cpp -lsimdjson
//
//   build/simdjson-walk BODY.ndjson [PASSES]

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace simdjson;

int
main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s BODY.ndjson [PASSES]\n", argv[0]);
        return 2;
    }

    int passes = argc > 2 ? std::atoi(argv[2]) : 200;
    padded_string body;

    if (padded_string::load(argv[1]).get(body)) {
        std::fprintf(stderr, "simdjson-walk: cannot read %s\n", argv[1]);
        return 1;
    }

    ondemand::parser parser;
    double best = 0;
    size_t events = 0, sink = 0;

    for (int p = 0; p < passes; p++) {
        auto t0 = std::chrono::steady_clock::now();
        ondemand::document_stream docs;

        if (parser.iterate_many(body).get(docs)) {
            std::fprintf(stderr, "simdjson-walk: not NDJSON\n");
            return 1;
        }

        events = 0;

        for (auto doc : docs) {
            ondemand::object obj;

            if (doc.get_object().get(obj)) {
                return 1;
            }

            for (auto field : obj) {
                std::string_view key, s;
                double d;

                if (field.unescaped_key().get(key)) {
                    return 1;
                }

                ondemand::value v = field.value();

                switch (v.type()) {
                case ondemand::json_type::string:
                    if (v.get_string().get(s) == SUCCESS) {
                        sink += s.size();
                    }
                    break;
                case ondemand::json_type::number:
                    if (v.get_double().get(d) == SUCCESS) {
                        sink += (size_t) d;
                    }
                    break;
                default:
                    sink += v.raw_json_token().size();
                    break;
                }

                sink += key.size();
            }

            events++;
        }

        double s = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - t0).count();
        double rate = events / s;

        if (rate > best) {
            best = rate;
        }
    }

    std::printf("%.0f events/s (%zu events a pass, best of %d; %zu)\n",
                best, events, passes, sink % 10);

    return 0;
}
