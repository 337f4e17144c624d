"""The old systems' path, rebuilt for comparison: FastAPI and synchronous pymongo, no auth.

Written for the benchmark from the seeds' descriptions (../shared/seeds/): the same paths, keys
and messages as the FastAPI systems this service replaces, built the way they were built:
`async def` handlers calling the blocking pymongo driver and bcrypt (cost 12, raw `$2b$` hashes)
inline, the linked id stored on the user document, details in their own collection found by
`user_id` (no index on it, as there), the join as two `find_one` round trips, the whole user
document (hash included) in the answer, and no authentication at all.

    MONGODB_URI=mongodb://127.0.0.1:27107/bench_old uvicorn --app-dir bench old_app:app --port 8108

Not part of the service; bench/run.py starts it next to ours against the same database server.
"""
import os

import bcrypt
from bson import ObjectId
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from pymongo import MongoClient

client = MongoClient(os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/bench_old"))
db = client.get_default_database()
users = db["users"]
user_details = db["user_details"]

app = FastAPI()


class Register(BaseModel):
    username: str
    email: str
    password: str


class Login(BaseModel):
    email: str
    password: str


class LinkId(BaseModel):
    user_id: str
    linked_id: str


class Details(BaseModel):
    user_id: str
    address: str | None = None
    phone: str | None = None
    preferences: dict | None = None


def plain(document: dict | None) -> dict | None:
    """ObjectIds as strings, as the seeds' responses show them."""
    if document is None:
        return None
    return {key: str(value) if isinstance(value, ObjectId) else value for key, value in document.items()}


@app.get("/health")
async def health():
    return {"status": "I am healthy"}


@app.post("/users/register")
async def register(body: Register):
    if users.find_one({"email": body.email}):
        raise HTTPException(status_code=400, detail="Email already registered")
    hashed = bcrypt.hashpw(body.password.encode(), bcrypt.gensalt(12)).decode()
    result = users.insert_one({"username": body.username, "email": body.email, "password": hashed})
    return {"message": "User registered successfully", "user_id": str(result.inserted_id)}


@app.post("/login")
async def login(body: Login):
    user = users.find_one({"email": body.email})
    if not user or not bcrypt.checkpw(body.password.encode(), user["password"].encode()):
        raise HTTPException(status_code=400, detail="Invalid email or password")
    return {"message": "Login successful", "user_id": str(user["_id"])}


@app.post("/users/link_id")
async def link_id(body: LinkId):
    result = users.update_one({"_id": ObjectId(body.user_id)}, {"$set": {"linked_id": body.linked_id}})
    if result.matched_count == 0:
        raise HTTPException(status_code=404, detail="User not found")
    return {"message": "ID linked successfully", "linked_id": body.linked_id}


@app.post("/users/add_details")
async def add_details(body: Details):
    fields = body.model_dump(exclude={"user_id"}, exclude_none=True)
    user_details.update_one({"user_id": body.user_id}, {"$set": fields}, upsert=True)
    return {"message": "Details added/updated successfully"}


@app.get("/users/user_with_details/{user_id}")
async def user_with_details(user_id: str):
    user = users.find_one({"_id": ObjectId(user_id)})
    if not user:
        raise HTTPException(status_code=404, detail="User not found")
    details = user_details.find_one({"user_id": user_id})
    return {"user": plain(user), "details": plain(details)}


@app.delete("/users/delete_user/{user_id}")
async def delete_user(user_id: str):
    result = users.delete_one({"_id": ObjectId(user_id)})
    if result.deleted_count == 0:
        raise HTTPException(status_code=404, detail="User not found")
    user_details.delete_many({"user_id": user_id})
    return {"message": "User and associated data deleted successfully"}
