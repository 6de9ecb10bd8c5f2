// express-rate-limit for tests/profiles/test_express.py: 5 requests per 2 s per X-Key (a fixed
// window anchored at a key's first hit), with the IETF RateLimit fields of the draft named by
// DRAFT (draft-7 by default) and Retry-After on 429s. PORT: where to listen on 127.0.0.1.
import express from "express";
import { rateLimit } from "express-rate-limit";

const app = express();
app.use(
  rateLimit({
    windowMs: 2000,
    limit: 5,
    standardHeaders: process.env.DRAFT ?? "draft-7",
    legacyHeaders: false,
    keyGenerator: (request) => request.get("X-Key") ?? "none",
  }),
);
app.get("/", (_request, response) => response.send("ok\n"));
app.listen(Number(process.env.PORT), "127.0.0.1");
